// Conveniences only: every page works without this file.
(function () {
  "use strict";
  var player = document.getElementById("player");

  function seek(seconds) {
    if (!player) { return; }
    player.currentTime = seconds;
    var playing = player.play();
    if (playing && playing.catch) { playing.catch(function () {}); }
  }

  document.querySelectorAll("a.cue").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (!player) { return; }
      event.preventDefault();
      seek(parseFloat(link.dataset.start));
      // The transcript runs below the player: show the picture that now plays.
      var box = player.getBoundingClientRect();
      if (box.top < 0 || box.bottom > window.innerHeight) {
        player.scrollIntoView({ block: "nearest" });
      }
    });
  });

  // The frame strip and the transcript that follows the video: static/media.js.

  // A video's face boxes are drawn over its poster: once it plays or seeks, the picture
  // is another frame, and they go (with the checkbox that showed them).
  var frame = document.getElementById("frame");
  if (player && frame && player.tagName === "VIDEO" && frame.querySelector(".faces")) {
    var posterGone = function () {
      frame.classList.add("played");
      document.querySelectorAll(".show-faces, .show-faces-label").forEach(function (el) {
        el.hidden = true;
      });
    };
    player.addEventListener("play", posterGone, { once: true });
    player.addEventListener("seeking", posterGone, { once: true });
  }

  // A #t=SECONDS link (from a search result's transcript match) starts the player there.
  // The metadata may have loaded before this deferred script ran: then seek at once.
  function seekToHash() {
    var match = /^#t=([0-9]+(?:\.[0-9]+)?)$/.exec(window.location.hash);
    if (!match || !player) { return; }
    var seconds = parseFloat(match[1]);
    if (player.readyState >= 1) {
      player.currentTime = seconds;
    } else {
      player.addEventListener("loadedmetadata", function () {
        player.currentTime = seconds;
      }, { once: true });
    }
  }
  seekToHash();
  window.addEventListener("hashchange", seekToHash);
}());

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

  var strip = document.getElementById("strip");
  if (strip && player) {
    // The strip spans the player, no wider: its frames line up with the picture's width.
    var fit = function () {
      var width = player.getBoundingClientRect().width;
      if (width > 0) { strip.style.width = width + "px"; }
    };
    // Whatever changes the player's box (its metadata, its poster, the window) refits:
    // an event missed under load left the strip at the player's first width.
    if (window.ResizeObserver) {
      new ResizeObserver(fit).observe(player);
    } else {
      player.addEventListener("loadedmetadata", fit);
      window.addEventListener("resize", fit);
    }
    fit();
    strip.addEventListener("click", function (event) {
      var duration = parseFloat(strip.dataset.duration) || player.duration || 0;
      var box = strip.getBoundingClientRect();
      seek(duration * (event.clientX - box.left) / box.width);
    });
  }

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

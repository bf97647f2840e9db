// The video on its item page: the frame strip as wide as the player, its frames seeking
// it, and the transcript line being played marked and kept in sight. Conveniences only:
// without this file each frame and each time opens the video at its moment.
(function () {
  "use strict";
  var player = document.getElementById("player");
  if (!player || player.tagName !== "VIDEO") { return; }

  // Scrolls `box` (and nothing around it: not the page) until `el` is wholly in it.
  function within(box, el) {
    var outer = box.getBoundingClientRect();
    var inner = el.getBoundingClientRect();
    if (inner.top < outer.top) {
      box.scrollTop += inner.top - outer.top;
    } else if (inner.bottom > outer.bottom) {
      box.scrollTop += inner.bottom - outer.bottom;
    }
    if (inner.left < outer.left) {
      box.scrollLeft += inner.left - outer.left;
    } else if (inner.right > outer.right) {
      box.scrollLeft += inner.right - outer.right;
    }
  }

  function seek(seconds) {
    player.currentTime = seconds;
    var playing = player.play();
    if (playing && playing.catch) { playing.catch(function () {}); }
  }

  var strip = document.getElementById("strip");
  if (strip) {
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
    // A click, or Enter on a frame reached by Tab, plays from that frame's moment.
    strip.querySelectorAll("a.strip-frame").forEach(function (frame) {
      frame.addEventListener("click", function (event) {
        event.preventDefault();
        seek(parseFloat(frame.dataset.start) || 0);
      });
      // A phone's strip scrolls sideways: the browser brings a focused frame only
      // partly into sight, and a frame half seen is not known to be the one focused.
      frame.addEventListener("focus", function () { within(strip, frame); });
    });
  }

  var list = document.querySelector("#transcript ol.cues");
  var track = player.textTracks && player.textTracks[0];
  if (!list || !track) { return; }
  // The track's cue N is the transcript's cue N; this page lists them from `start`.
  var first = parseInt(list.getAttribute("start"), 10) || 1;
  var current = null;
  // A visitor who scrolls the transcript to read on is left there a while: following
  // the video would pull the box back from under them.
  var heldUntil = 0;
  var HOLD_MS = 5000;
  ["wheel", "touchmove", "keydown"].forEach(function (name) {
    list.addEventListener(name, function () { heldUntil = Date.now() + HOLD_MS; },
                          { passive: true });
  });

  // The line of the cue being played (of the latest to start, where cues overlap).
  function playing() {
    var active = track.activeCues;
    var latest = null;
    for (var i = 0; active && i < active.length; i += 1) {
      if (!latest || active[i].startTime >= latest.startTime) { latest = active[i]; }
    }
    return latest ? list.children[parseInt(latest.id, 10) - first] || null : null;
  }

  // Scrolls the transcript's own box, never the page: the page is where the visitor
  // put it (scrollIntoView would move every box around the line, the page included).
  function reveal(li) {
    if (Date.now() >= heldUntil) { within(list, li); }
  }

  function follow() {
    var li = playing();
    if (li === current) { return; }
    if (current) {
      current.classList.remove("current");
      current.removeAttribute("aria-current");
    }
    current = li;
    if (li) {
      li.classList.add("current");
      li.setAttribute("aria-current", "true");
      reveal(li);
    }
  }

  // Captions turned off in the player still time the transcript: hidden, a track keeps
  // its cues (disabled, it drops them) and shows none.
  function keepCues() {
    if (track.mode === "disabled") { track.mode = "hidden"; }
  }
  player.textTracks.addEventListener("change", keepCues);
  keepCues();
  track.addEventListener("cuechange", follow);
  ["timeupdate", "seeked"].forEach(function (name) {
    player.addEventListener(name, follow);
  });
  follow();
}());

// Browsing conveniences: every page works without this file (the viewer's links, the
// full-screen link to the large picture, the facets' fold all do).
(function () {
  "use strict";

  function go(id) {
    var link = document.getElementById(id);
    if (link) { window.location.assign(link.href); }
  }

  // The arrow keys step through the list the visitor came from, except where they mean
  // something else: typing in a field, a player's or a select's own keys.
  var KEYS = { ArrowLeft: "previous-item", ArrowRight: "next-item" };
  function ownsArrows(target) {
    if (!target || !target.tagName) { return false; }
    return target.isContentEditable ||
      /^(INPUT|TEXTAREA|SELECT|VIDEO|AUDIO)$/.test(target.tagName);
  }
  document.addEventListener("keydown", function (event) {
    var id = KEYS[event.key];
    if (!id || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey ||
        event.shiftKey || ownsArrows(event.target)) { return; }
    go(id);
  });

  // A swipe over the photo: to the left for the next, to the right for the previous.
  // Touch and pen only: a mouse drags the picture or selects.
  var picture = document.getElementById("picture");
  var frame = picture && document.getElementById("frame");
  if (frame) {
    var start = null;
    var swiped = false;
    frame.addEventListener("pointerdown", function (event) {
      start = event.pointerType === "mouse" ? null :
        { id: event.pointerId, x: event.clientX, y: event.clientY };
    });
    frame.addEventListener("pointercancel", function () { start = null; });
    frame.addEventListener("pointerup", function (event) {
      if (!start || event.pointerId !== start.id) { return; }
      var dx = event.clientX - start.x;
      var dy = event.clientY - start.y;
      start = null;
      // Mostly sideways and far enough to be meant: 50 px, as a tap may wander.
      if (Math.abs(dx) < 50 || Math.abs(dx) < 2 * Math.abs(dy)) { return; }
      swiped = true;
      go(dx < 0 ? "next-item" : "previous-item");
    });
    // The picture is a link to the original: a swipe is not a tap on it.
    frame.addEventListener("click", function (event) {
      if (swiped) { event.preventDefault(); swiped = false; }
    }, true);
  }

  // Full screen: the large picture itself, by the Fullscreen API; without it (or without
  // this script) the link opens the picture on its own.
  var full = document.getElementById("fullscreen");
  if (full && picture && document.fullscreenEnabled) {
    full.addEventListener("click", function (event) {
      event.preventDefault();
      picture.requestFullscreen().catch(function () { window.location.assign(full.href); });
    });
  }

  // The facets' fold stays open on a wide screen. browse.css does it where the browser can
  // style a closed <details>; elsewhere it is opened here.
  var fold = document.querySelector("details.facets-fold");
  var styled = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
  if (fold && !styled && window.matchMedia("(min-width: 701px)").matches) {
    fold.open = true;
  }
}());

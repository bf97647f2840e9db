// "Copy credit" and "Print" on item pages and credits sheets. Conveniences only: without
// this file their buttons stay hidden, the credit line is there to select, and the
// browser's own Print prints the sheet as well.
(function () {
  "use strict";
  var platform = (navigator.userAgentData && navigator.userAgentData.platform) ||
    navigator.platform || navigator.userAgent;
  var copyKeys = /Mac|iPhone|iPad|iPod/i.test(platform) ? "⌘C" : "Ctrl+C";

  function say(button, text) {
    var status = document.getElementById(button.dataset.status);
    if (status) { status.textContent = text; }
  }

  // The line alone goes to the clipboard (data-copy), never its label or the button.
  // Where the Clipboard API is missing (plain HTTP on a LAN address is no secure
  // context) or refused, the line is selected and the visitor told the keys to press:
  // the status element is a live region, so a screen reader says it too.
  function copyCredit(button) {
    var line = document.getElementById(button.dataset.line);
    function copied() {
      button.textContent = "Copied";
      say(button, "Credit line copied.");
    }
    function byHand() {
      if (line) { window.getSelection().selectAllChildren(line); }
      say(button, "Selected: press " + copyKeys + " to copy the credit line.");
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(button.dataset.copy).then(copied, byHand);
    } else {
      byHand();
    }
  }

  document.querySelectorAll("button.copy-credit").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { copyCredit(button); });
  });

  // Thumbnails below the fold load lazily on screen; on paper every one is wanted.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("img[loading=lazy]").forEach(function (img) {
      img.loading = "eager";
    });
  });

  var print = document.getElementById("print-sheet");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
}());

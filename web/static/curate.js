// The curator's desk: conveniences only; every form works without them.
"use strict";
(function () {
  // A form sent twice (a double click) would be refused as stale the second time:
  // send it once, and say it is on its way.
  document.querySelectorAll("form.curate-form, form.curate-camera, form.curate-name, form.inline").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);  // after the submitter's name and value have gone with the form
    });
  });
  // A new login link is selected at once, ready to copy.
  var link = document.getElementById("invite-link");
  if (link) { link.focus(); link.select(); }
})();

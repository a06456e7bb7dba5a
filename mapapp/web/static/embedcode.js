/* mapapp: the "Copy embed code" button of the main map.
 *
 * Builds an <iframe> of /embed for the view as the address bar holds it now
 * (filters, centre and zoom: map.js keeps them there) and copies it with the
 * clipboard API.  The code is also shown, selected, in a text box: where the
 * clipboard is refused (an insecure origin, a denied permission) the reader
 * copies it from there.
 */
(function () {
  "use strict";

  // ``text`` made safe inside a double-quoted HTML attribute.
  function attribute(text) {
    return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;")
      .replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // The iframe snippet for the embed page at ``path`` (made absolute) and the current view.
  function embedCode(path) {
    var src = new URL(path, window.location.href).href + window.location.search;
    return '<iframe src="' + attribute(src) + '" width="100%" height="480" ' +
           'style="border:0" loading="lazy" title="Map of reported events"></iframe>';
  }

  function wire() {
    var button = document.querySelector(".mapapp-embed-copy");
    if (!button) { return; }
    var box = document.querySelector(".mapapp-embed-code");
    var status = document.querySelector(".mapapp-embed-status");
    function say(text, state) {
      if (status) { status.textContent = text; }
      button.setAttribute("data-copied", state);
    }
    button.addEventListener("click", function () {
      var code = embedCode(button.getAttribute("data-embed-url"));
      if (box) {
        box.value = code;
        box.hidden = false;
        box.select();
      }
      var fallback = function () { say("Select the code below and copy it.", "manual"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(code)
          .then(function () { say("Copied.", "clipboard"); }, fallback);
      } else {
        fallback();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire);
  } else {
    wire();
  }
}());

/* mapapp: links from the main map to a story carry the map's view (mapapp.viewLinks).
 *
 * Just before a story link is followed (pressed, focused, or opened in a new
 * tab from its menu) its address gains ?map=<the map's query as the address
 * bar holds it now>, so the story page's "Back to the map" (and its previous
 * and next links) return to the same filters, centre and zoom.  The server
 * checks that query like any map URL.
 */
(function () {
  "use strict";

  var mapapp = window.mapapp;

  // The story pages' path prefix, from the layer's storyUrl template ("/stories/ARTICLE-ID").
  function prefix() {
    var template = mapapp.layer && mapapp.layer.options.storyUrl;
    return template ? template.split("ARTICLE-ID")[0] : null;
  }

  // ``link`` pointed at its story with the current view in ?map=.
  function carryView(link) {
    var start = prefix();
    if (!start || !link.getAttribute("href")) { return; }
    var url = new URL(link.href, location.href);
    if (url.origin !== location.origin || url.pathname.indexOf(start) !== 0) { return; }
    var query = location.search.replace(/^\?/, "");
    if (query) { url.searchParams.set("map", query); } else { url.searchParams.delete("map"); }
    link.setAttribute("href", url.pathname + url.search + url.hash);
  }

  function onEvent(event) {
    var link = event.target && event.target.closest ? event.target.closest("a[href]") : null;
    if (link) { carryView(link); }
  }

  ["pointerdown", "focusin", "click", "auxclick", "contextmenu"].forEach(function (type) {
    document.addEventListener(type, onEvent, true);
  });

  mapapp.viewLinks = {carryView: carryView};
}());

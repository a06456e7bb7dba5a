/* mapapp: what the main map says over itself (mapapp.Notices).
 *
 * "Loading the places…" covers the map until its points are drawn (or their
 * loading failed: the error is said beside the map).  When the filters match
 * nothing, an empty state says "No stories match — clear filters", its button
 * putting every filter back to its default (mapapp.layer.clearFilters); with
 * no mapped story in the store at all it says how to add some instead.
 * Driven by the events mapapp.layer fires on the map (see map.js).
 */
(function () {
  "use strict";

  var mapapp = window.mapapp;

  function Notices(doc, layer) {
    var self = this;
    this.loading = doc.querySelector(".mapapp-loading");
    this.empty = doc.querySelector(".mapapp-empty");
    this.layer = layer;
    if (this.loading && !layer.drawnOnce) { this.loading.hidden = false; }
    var clear = this.empty && this.empty.querySelector("button");
    if (clear) { clear.addEventListener("click", function () { layer.clearFilters(); }); }
    layer.map.on("mapapp:drawn mapapp:failed", function () {
      if (self.loading) { self.loading.hidden = true; }
    });
    layer.map.on("mapapp:filtered", function (event) { self.filtered(event.result); });
    if (layer.result) { this.filtered(layer.result); }
  }

  // Show the empty state when ``result`` (a MapData filter result) has no place to show.
  Notices.prototype.filtered = function (result) {
    var box = this.empty, data = this.layer.data;
    if (!box || !data) { return; }
    var none = data.placeCount === 0;
    box.hidden = result.places > 0;
    box.setAttribute("data-reason", none ? "no-stories" : "no-match");
    box.querySelector(".mapapp-empty-match").hidden = none;
    box.querySelector(".mapapp-empty-none").hidden = !none;
  };

  function start() {
    if (mapapp.layer) { mapapp.notices = new Notices(document, mapapp.layer); }
  }

  mapapp.Notices = Notices;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());

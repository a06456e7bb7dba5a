/* mapapp: the outlines of the countries the shown stories name (mapapp.Outlines).
 *
 * A country named in the shown stories is drawn as its outline, not just a
 * ring: solid when some mention of it is sure, faint and dashed when none is.
 * new Outlines(map), then index(geojson) with the basemap's countries (each
 * feature's properties.iso) and show(mapData, result) for each filter
 * result; show returns how many outlines are drawn, or null before index.
 */
(function () {
  "use strict";

  function Outlines(map) {
    this.group = L.layerGroup().addTo(map);
    this.renderer = L.canvas({padding: 0.5});
    this.features = null;      // ISO code -> GeoJSON feature
    this.layers = new Map();   // ISO code -> the outline drawn
  }

  // The basemap's GeoJSON countries, by ISO code.
  Outlines.prototype.index = function (geojson) {
    var byIso = new Map();
    (geojson && geojson.features || []).forEach(function (f) {
      var iso = f.properties && f.properties.iso;
      if (iso) { byIso.set(iso, f); }
    });
    this.features = byIso;
  };

  // Draw the outlines ``result`` calls for, redrawing only those that changed.
  Outlines.prototype.show = function (data, result) {
    if (!this.features || !result) { return null; }
    var wanted = new Map(), low = data.lowScore, self = this;
    for (var p = 0; p < data.placeCount; p++) {
      var code = data.place.code[p] || "";
      if (!result.placeShown[p] || code.indexOf("PCL") !== 0) { continue; }
      var iso = data.place.countryUpper[p];
      if (this.features.has(iso)) {
        wanted.set(iso, (wanted.get(iso) || false) || result.placeBest[p] >= low);
      }
    }
    this.layers.forEach(function (layer, iso) {
      if (!wanted.has(iso) || layer.mapappSure !== wanted.get(iso)) {
        self.group.removeLayer(layer);
        self.layers.delete(iso);
      }
    });
    wanted.forEach(function (sure, iso) {
      if (self.layers.has(iso)) { return; }
      var layer = L.geoJSON(self.features.get(iso), {
        interactive: false, renderer: self.renderer,
        style: {color: "#6c3483", weight: sure ? 1.6 : 1.2, opacity: sure ? 0.9 : 0.5,
                fillColor: "#6c3483", fillOpacity: sure ? 0.1 : 0.04,
                dashArray: sure ? null : "4 4"}
      });
      layer.mapappSure = sure;
      self.layers.set(iso, layer);
      self.group.addLayer(layer);
    });
    return this.layers.size;
  };

  window.mapapp = window.mapapp || {};
  window.mapapp.Outlines = Outlines;
}());

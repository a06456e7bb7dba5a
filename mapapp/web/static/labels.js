/* mapapp: names on the offline basemap (mapapp.basemapLabels).
 *
 * mapapp.basemapLabels(map, url) fetches the labels (/basemap/labels.geojson,
 * built by mapapp.maps.labels: countries, capitals and big cities, sorted
 * most important first, each with the zoom it shows from; the offline file
 * passes the GeoJSON itself in place of the URL) and draws those
 * the zoom calls for as plain text in a pane of their own, below the markers.
 * Placement is greedy and collision-light: in rank order, a label is drawn
 * unless its box overlaps one already drawn.  The pane takes no pointer
 * events and nothing in it can take focus, so labels never steal a click or
 * a key from the markers.  The container's data-labels is "ready" (or
 * "error") once loaded and data-labels-shown counts the names drawn.
 */
(function () {
  "use strict";

  var PANE = "mapappLabels";
  var PAD = 3;                                   // px kept clear around each label
  var CHAR = {country: 8.4, capital: 6.8, city: 6.2};   // average glyph widths, px
  var HEIGHT = {country: 13, capital: 14, city: 13};

  function BasemapLabels(map, url) {
    this.map = map;
    this.features = [];
    this.pane = map.getPane(PANE) || map.createPane(PANE);
    this.pane.classList.add("mapapp-labels");
    this.pane.setAttribute("aria-hidden", "true");  // the markers and the list carry the names
    var self = this, container = map.getContainer();
    map.on("zoomstart", function () { self.pane.classList.add("mapapp-labels-moving"); });
    map.on("zoomend moveend resize", function () { self.draw(); });
    var loaded = typeof url === "string"
      ? fetch(url, {credentials: "same-origin"})
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      : Promise.resolve(url);  // the labels themselves (the offline file inlines them)
    loaded
      .then(function (data) {
        self.features = (data.features || []).filter(function (f) {
          return f.geometry && f.properties && f.properties.name;
        });
        self.draw();
        container.setAttribute("data-labels", "ready");
      })
      .catch(function (err) {
        container.setAttribute("data-labels", "error");
        console.warn("mapapp: no basemap labels", err);
      });
  }

  // The label's longitude moved by whole turns to the copy of the world nearest the centre.
  function nearLongitude(lon, centre) {
    return lon + 360 * Math.round((centre - lon) / 360);
  }

  // Lay out the labels the zoom calls for, most important first, skipping any that overlap.
  BasemapLabels.prototype.draw = function () {
    var map = this.map, zoom = Math.round(map.getZoom()), size = map.getSize();
    var centre = map.getCenter().lng, placed = [], fragment = document.createDocumentFragment();
    this.features.forEach(function (f) {
      var p = f.properties;
      if (p.minzoom > zoom) { return; }
      var c = f.geometry.coordinates;
      var latlng = L.latLng(c[1], nearLongitude(c[0], centre));
      var at = map.latLngToContainerPoint(latlng);
      var kind = CHAR[p.kind] ? p.kind : "city";
      var width = p.name.length * CHAR[kind] + 2 * PAD, height = HEIGHT[kind] + 2 * PAD;
      // A country's name is centred on its point; a town's starts at its dot.
      var left = kind === "country" ? at.x - width / 2 : at.x - 4;
      var box = {left: left, top: at.y - height / 2, right: left + width + 4,
                 bottom: at.y + height / 2};
      if (box.right < 0 || box.bottom < 0 || box.left > size.x || box.top > size.y) { return; }
      for (var i = 0; i < placed.length; i++) {
        var o = placed[i];
        if (box.left < o.right && box.right > o.left && box.top < o.bottom && box.bottom > o.top) {
          return;
        }
      }
      placed.push(box);
      var label = document.createElement("span"), text = document.createElement("span");
      label.className = "mapapp-label mapapp-label-" + kind;
      text.className = "mapapp-label-text";
      text.textContent = p.name;
      label.appendChild(text);
      L.DomUtil.setPosition(label, map.latLngToLayerPoint(latlng));
      fragment.appendChild(label);
    });
    this.pane.textContent = "";
    this.pane.appendChild(fragment);
    this.pane.classList.remove("mapapp-labels-moving");
    map.getContainer().setAttribute("data-labels-shown", String(placed.length));
  };

  window.mapapp = window.mapapp || {};
  window.mapapp.basemapLabels = function (map, url) { return new BasemapLabels(map, url); };
}());

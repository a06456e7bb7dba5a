/* mapapp: the main map's markers, clustered (mapapp.Clusters), and their key (mapapp.Legend).
 *
 * One marker per place, made the first time the place is shown; a country or
 * region is a hollow ring, a low-score place is faded and dashed.  Markers
 * carry no popup of their own: one shared popup (popups.js) keeps 50,000
 * markers light.
 *
 * new Clusters(map, {onClick, onBusy, onDrawn}), then setData(mapData) (again
 * after a reload) and show(result) for each MapData filter result: only the markers whose
 * visibility changed are added or removed.  onClick(marker) when a marker is
 * clicked (marker.mapappPlace is its place), onBusy() when a re-cluster
 * starts, onDrawn() when every marker of the latest result is on the map.
 * marker(p) is place p's marker, zoomTo(p, done) shows it and calls
 * done(marker); ``markers`` holds those made so far, by place.
 *
 * For the keyboard: every marker and cluster is a focusable button (Leaflet's
 * tabindex and role, a cluster labelled with its count); Enter or Space on a
 * marker calls onClick(marker, true), on a cluster zooms in and puts the focus
 * on the first marker or cluster it splits into.
 */
(function () {
  "use strict";

  var el = window.mapapp.dom.el;
  var ICONS = {};  // the four icons, made once: (point or area) x (sure or uncertain)

  function icon(area, uncertain) {
    var key = (area ? "a" : "p") + (uncertain ? "u" : "");
    if (!ICONS[key]) {
      ICONS[key] = L.divIcon({
        className: "mapapp-place " + (area ? "mapapp-area" : "mapapp-point") +
                   (uncertain ? " mapapp-uncertain" : ""),
        iconSize: area ? [18, 18] : [12, 12]});
    }
    return ICONS[key];
  }

  // A cluster's icon: Leaflet.markercluster's own look, plus a label for screen readers.
  var ClusterIcon = L.DivIcon.extend({
    createIcon: function (old) {
      var div = L.DivIcon.prototype.createIcon.call(this, old);
      div.setAttribute("aria-label", this.options.label);
      return div;
    }
  });

  function clusterIcon(cluster) {
    var n = cluster.getChildCount();
    var size = n < 10 ? "small" : n < 100 ? "medium" : "large";
    return new ClusterIcon({
      html: "<div><span>" + n + "</span></div>", className: "marker-cluster marker-cluster-" + size,
      iconSize: L.point(40, 40), label: n + " places: press Enter to zoom in"
    });
  }

  // Enter or Space, without modifiers.
  function activates(event) {
    var e = event.originalEvent;
    return (e.key === "Enter" || e.key === " ") && !e.altKey && !e.ctrlKey && !e.metaKey;
  }

  // The key to the symbols, as a Leaflet control (folds away to a button).
  var Legend = L.Control.extend({
    options: {position: "bottomleft"},
    onAdd: function () {
      var box = el("details", "mapapp-legend leaflet-bar");
      // Open on a wide screen; folded on a narrow one, where it would cover the map.
      box.open = !(window.matchMedia && window.matchMedia("(max-width: 50rem)").matches);
      box.appendChild(el("summary", null, "Legend"));
      [["mapapp-point", "Town or city (a point)"],
       ["mapapp-area", "Country or region: an area, not a spot"],
       ["mapapp-outline", "Country named in the stories"],
       ["mapapp-point mapapp-uncertain", "Low confidence (score below 0.5)"],
       ["mapapp-cluster-key", "Group of places: click to zoom in"]]
        .forEach(function (item) {
          var row = el("div", "mapapp-legend-row");
          row.appendChild(el("span", "mapapp-swatch " + item[0]));
          row.appendChild(el("span", null, item[1]));
          box.appendChild(row);
        });
      L.DomEvent.disableClickPropagation(box);
      return box;
    }
  });

  function Clusters(map, handlers) {
    this.handlers = handlers;
    this.data = null;
    this.result = null;
    this.markers = [];
    this.shown = null;   // per place: 1 when its marker is in the cluster group
    this.busy = false;   // a re-cluster is under way ...
    this.again = false;  // ... and another result came in meanwhile
    // Clustering stops at street-level zooms: fewer levels to build per marker
    // (a third less work at 50,000 markers); places there are far enough apart.
    this.group = L.markerClusterGroup({
      chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 45,
      disableClusteringAtZoom: 12, chunkProgress: this._progress.bind(this),
      iconCreateFunction: clusterIcon
    }).addTo(map);
    var self = this;
    this.group.on("click", function (event) { handlers.onClick(event.layer, false); });
    this.group.on("keydown", function (event) {
      if (!activates(event)) { return; }
      L.DomEvent.preventDefault(event.originalEvent);  // Space would scroll the page
      handlers.onClick(event.layer, true);
    });
    this.group.on("clusterkeydown", function (event) {
      if (!activates(event)) { return; }
      L.DomEvent.preventDefault(event.originalEvent);
      self._zoomInto(event.layer);
    });
  }

  // Zoom into a cluster from the keyboard, then focus the first marker or cluster it became.
  Clusters.prototype._zoomInto = function (cluster) {
    var group = this.group, map = group._map, first = cluster.getAllChildMarkers()[0];
    map.once("moveend", function () {
      window.setTimeout(function () {  // after markercluster has re-drawn the new zoom
        var shown = first && group.getVisibleParent(first);
        if (shown && shown._icon) { shown._icon.focus(); }
      }, 300);
    });
    cluster.zoomToBounds({padding: [20, 20]});
  };

  // The MapData whose places the markers stand for.
  Clusters.prototype.setData = function (data) {
    if (this.data) { this.group.clearLayers(); }  // new data (reloaded): new markers
    this.data = data;
    this.markers = new Array(data.placeCount);
    this.shown = new Uint8Array(data.placeCount);
  };

  // Show the places a MapData filter result shows (after the re-cluster under way, if any).
  Clusters.prototype.show = function (result) {
    this.result = result;
    this._draw();
  };

  Clusters.prototype.marker = function (p) {
    var marker = this.markers[p];
    if (marker) { return marker; }
    var d = this.data.place;
    marker = L.marker([d.lat[p], d.lon[p]], {
      icon: icon(d.area[p], false), title: d.name[p] || "", keyboard: true, riseOnHover: true
    });
    marker.mapappPlace = p;
    marker.mapappUncertain = false;
    this.markers[p] = marker;
    return marker;
  };

  // Zoom until place p's marker is out of its cluster, then done(marker).
  Clusters.prototype.zoomTo = function (p, done) {
    var marker = this.marker(p);
    this.group.zoomToShowLayer(marker, function () { done(marker); });
  };

  // Re-cluster: add and remove only the places whose visibility changed.
  Clusters.prototype._draw = function () {
    if (this.busy) { this.again = true; return; }
    var result = this.result, data = this.data, low = data.lowScore;
    var add = [], remove = [], shownBefore = 0, p;
    for (p = 0; p < data.placeCount; p++) {
      var on = result.placeShown[p] > 0;
      if (this.shown[p]) { shownBefore++; }
      if (on) {
        var marker = this.marker(p), uncertain = result.placeBest[p] < low;
        if (marker.mapappUncertain !== uncertain) {
          marker.mapappUncertain = uncertain;
          marker.setIcon(icon(data.place.area[p], uncertain));
        }
        if (!this.shown[p]) { add.push(marker); }
      } else if (this.shown[p]) {
        remove.push(this.markers[p]);
      }
      this.shown[p] = on ? 1 : 0;
    }
    if (remove.length > 1000 && remove.length * 2 > shownBefore) {
      this.group.clearLayers();
      add = [];
      for (p = 0; p < data.placeCount; p++) { if (this.shown[p]) { add.push(this.markers[p]); } }
    } else if (remove.length) {
      this.group.removeLayers(remove);
    }
    this.busy = true;
    this.handlers.onBusy();
    this.group.addLayers(add);
  };

  Clusters.prototype._progress = function (processed, total) {
    if (processed !== total || !this.busy) { return; }
    var self = this;
    window.setTimeout(function () {
      self.busy = false;
      if (self.again) {
        self.again = false;
        self._draw();
        return;
      }
      self.handlers.onDrawn();
    }, 0);
  };

  window.mapapp = window.mapapp || {};
  window.mapapp.Clusters = Clusters;
  window.mapapp.Legend = Legend;
}());

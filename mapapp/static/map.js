/* mapapp: the main map's places layer.
 *
 * Fetches the mentions as GeoJSON, groups them by place into one clustered
 * marker each, and rebuilds the cluster when the reader picks a date range
 * (the range also goes into the address bar, so the view can be shared).
 * Text from the data reaches the page only through textContent.
 */
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  // Only links to our own pages ("/..."), never "//host" or "javascript:".
  function ownPath(url) {
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/";
  }

  function placeKey(props, coords) {
    return props.geonameid !== null && props.geonameid !== undefined
      ? "g" + props.geonameid : coords[0] + "," + coords[1];
  }

  // Mentions -> places, each with the stories that mention it.
  function groupByPlace(features) {
    var places = new Map(), stories = new Set();
    features.forEach(function (feature) {
      var p = feature.properties || {}, coords = feature.geometry && feature.geometry.coordinates;
      if (!coords) { return; }
      var key = placeKey(p, coords), place = places.get(key);
      if (!place) {
        place = {latlng: [coords[1], coords[0]], props: p, stories: new Map()};
        places.set(key, place);
      }
      stories.add(p.article_id);
      var story = place.stories.get(p.article_id);
      if (!story) {
        story = {headline: p.headline, published: p.published, storyUrl: p.story_url,
                 written: new Set()};
        place.stories.set(p.article_id, story);
      }
      if (p.name) { story.written.add(p.name); }
    });
    return {places: Array.from(places.values()), stories: stories.size,
            mentions: features.length};
  }

  function byDateDesc(a, b) {
    if (a.published === b.published) { return 0; }
    if (!a.published) { return 1; }
    if (!b.published) { return -1; }
    return a.published < b.published ? 1 : -1;
  }

  function popupFor(place) {
    var p = place.props, box = el("div", "mapapp-popup");
    box.appendChild(el("h3", null, p.resolved_name || p.name));
    var where = [p.admin1_name, p.country_code].filter(Boolean).join(", ");
    if (where) { box.appendChild(el("p", "mapapp-where", where)); }
    var list = el("ul", "mapapp-stories");
    Array.from(place.stories.values()).sort(byDateDesc).forEach(function (story) {
      var item = el("li");
      item.appendChild(el("span", "mapapp-date", story.published || "undated"));
      item.appendChild(document.createTextNode(" "));
      var link = el(ownPath(story.storyUrl) ? "a" : "span", "mapapp-headline",
                    story.headline || "(no headline)");
      if (link.tagName === "A") { link.href = story.storyUrl; }
      item.appendChild(link);
      var written = Array.from(story.written).filter(function (w) { return w !== p.resolved_name; });
      if (written.length) {
        item.appendChild(el("span", "mapapp-written", " as \u201c" + written.join("\u201d, \u201c") + "\u201d"));
      }
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  function markerFor(place) {
    var area = place.props.kind === "area", n = place.stories.size;
    var marker = L.marker(place.latlng, {
      icon: L.divIcon({className: "mapapp-place " + (area ? "mapapp-area" : "mapapp-point"),
                       iconSize: area ? [18, 18] : [12, 12]}),
      title: (place.props.resolved_name || place.props.name || "") + " (" + plural(n, "story", "stories") + ")",
      keyboard: true
    });
    marker.bindPopup(function () { return popupFor(place); }, {maxWidth: 340, minWidth: 200});
    return marker;
  }

  // The date form and the counts, as a Leaflet control.
  var DateControl = L.Control.extend({
    options: {position: "topright"},
    onAdd: function () {
      var box = el("form", "mapapp-dates leaflet-bar");
      box.setAttribute("aria-label", "Filter by publication date");
      this.start = this._field(box, "From", "start");
      this.end = this._field(box, "To", "end");
      var buttons = el("div", "mapapp-buttons");
      this.apply = el("button", "mapapp-apply", "Apply");
      this.apply.type = "submit";
      this.clear = el("button", "mapapp-clear", "Clear");
      this.clear.type = "button";
      buttons.appendChild(this.apply);
      buttons.appendChild(this.clear);
      box.appendChild(buttons);
      this.count = el("p", "mapapp-count", "Loading\u2026");
      this.count.setAttribute("aria-live", "polite");
      box.appendChild(this.count);
      this.error = el("p", "mapapp-error");
      this.error.setAttribute("role", "alert");
      this.error.hidden = true;
      box.appendChild(this.error);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      this.form = box;
      return box;
    },
    _field: function (box, text, name) {
      var label = el("label", "mapapp-field", text + " ");
      var input = el("input");
      input.type = "date";
      input.name = name;
      label.appendChild(input);
      box.appendChild(label);
      return input;
    }
  });

  function PlacesLayer(map, options) {
    this.map = map;
    this.url = options.url;
    this.seq = 0;
    this.cluster = L.markerClusterGroup({
      chunkedLoading: true,
      showCoverageOnHover: false,
      maxClusterRadius: 45,
      chunkProgress: this._progress.bind(this)
    }).addTo(map);
    this.control = new DateControl().addTo(map);
    this.control.start.value = options.start || "";
    this.control.end.value = options.end || "";
    this.control.form.addEventListener("submit", this._apply.bind(this));
    this.control.clear.addEventListener("click", this._clear.bind(this));
    this.load(options.start || "", options.end || "");
  }

  PlacesLayer.prototype._apply = function (event) {
    event.preventDefault();
    var start = this.control.start.value, end = this.control.end.value;
    if (start && end && start > end) {
      this._fail("The start date " + start + " is after the end date " + end + ".");
      return;
    }
    this.load(start, end);
  };

  PlacesLayer.prototype._clear = function () {
    this.control.start.value = "";
    this.control.end.value = "";
    this.load("", "");
  };

  PlacesLayer.prototype._query = function (start, end) {
    var params = new URLSearchParams();
    if (start) { params.set("start", start); }
    if (end) { params.set("end", end); }
    return params.toString();
  };

  PlacesLayer.prototype.load = function (start, end) {
    var seq = ++this.seq, self = this, query = this._query(start, end);
    this.control.form.setAttribute("data-state", "loading");
    fetch(this.url + (query ? "?" + query : ""), {credentials: "same-origin",
                                                  headers: {Accept: "application/geo+json"}})
      .then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      })
      .then(function (result) {
        if (seq !== self.seq) { return; }
        if (!result.ok) {
          self._fail((result.body && result.body.error) || "The places could not be loaded.");
          return;
        }
        history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash);
        self.show(result.body.features || []);
      })
      .catch(function (err) {
        if (seq === self.seq) { self._fail("The places could not be loaded (" + err.message + ")."); }
      });
  };

  PlacesLayer.prototype.show = function (features) {
    var grouped = groupByPlace(features), form = this.control.form;
    this.control.error.hidden = true;
    this.control.count.textContent = plural(grouped.places.length, "place", "places") +
      " in " + plural(grouped.stories, "story", "stories");
    form.setAttribute("data-places", grouped.places.length);
    form.setAttribute("data-stories", grouped.stories);
    form.setAttribute("data-mentions", grouped.mentions);
    this.cluster.clearLayers();
    if (grouped.places.length) {
      var bounds = L.latLngBounds(grouped.places.map(function (p) { return p.latlng; }));
      this.map.fitBounds(bounds, {padding: [40, 40], maxZoom: 6, animate: false});
    }
    this.pending = true;
    this.cluster.addLayers(grouped.places.map(markerFor));
  };

  PlacesLayer.prototype._progress = function (processed, total) {
    if (processed === total && this.pending) {
      this.pending = false;
      var form = this.control.form;
      window.setTimeout(function () { form.setAttribute("data-state", "ready"); }, 0);
    }
  };

  PlacesLayer.prototype._fail = function (message) {
    this.control.error.textContent = message;
    this.control.error.hidden = false;
    this.control.form.setAttribute("data-state", "error");
  };

  window.mapapp = window.mapapp || {};
  window.mapapp.placesLayer = function (map, options) { return new PlacesLayer(map, options); };
  window.mapapp.groupByPlace = groupByPlace;
}());

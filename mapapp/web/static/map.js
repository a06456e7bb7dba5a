/* mapapp: the main map.
 *
 * Loads every mappable mention once (/api/points, see mapdata.js), then does
 * all filtering here: the timeline brush, date fields and presets, the
 * undated toggle, search, country, roles, minimum score and the areas toggle
 * re-filter in the browser and re-cluster only the markers that changed.
 * One marker per place; a country or region is a hollow ring (and, for a
 * country, its outline), a low-score place is faded and dashed.  Popups show
 * the evidence (the sentence, fetched on demand from /api/evidence), the side
 * list follows the map, and the address bar holds the whole state so a link
 * reproduces the view (the server opens the page on the same state).
 * Text from the data reaches the page only through textContent.
 */
(function () {
  "use strict";

  var POPUP_STORIES = 20;   // stories listed in a popup (the rest are counted)
  var LIST_STORIES = 200;   // stories listed beside the map
  var ROLE_LABELS = {dateline: "dateline", focus: "focus", mention: "mention"};

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function plural(n, one, many) {
    return n.toLocaleString("en-GB") + " " + (n === 1 ? one : many);
  }

  // Only links to our own pages ("/..."), never "//host" or "javascript:".
  function ownPath(url) {
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/";
  }

  function score(milli) { return (milli / 1000).toFixed(2); }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  // The query string of a state, spelled as mapapp.rendering.MapView.params.
  function stateParams(state, roles) {
    var params = new URLSearchParams();
    if (state.start) { params.set("start", state.start); }
    if (state.end) { params.set("end", state.end); }
    if (!state.undated) { params.set("undated", "0"); }
    if (state.q) { params.set("q", state.q); }
    if (state.country) { params.set("country", state.country); }
    var chosen = roles.filter(function (r) { return state.roles.indexOf(r) >= 0; });
    if (chosen.length !== roles.length) { params.set("role", chosen.join(",")); }
    if (state.minScore > 0) { params.set("min_score", String(state.minScore)); }
    if (!state.areas) { params.set("areas", "0"); }
    return params;
  }

  var ICONS = {};
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

  // The key to the symbols, as a Leaflet control (folds away to a button).
  var Legend = L.Control.extend({
    options: {position: "bottomleft"},
    onAdd: function () {
      var box = el("details", "mapapp-legend leaflet-bar");
      box.open = true;
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

  function findUi(doc) {
    var form = doc.querySelector("form.mapapp-filters");
    function field(name) {
      return doc.querySelector("[name='" + name + "'][form='filters']:not([type=hidden])") ||
             (form && form.querySelector("[name='" + name + "']:not([type=hidden])"));
    }
    return {
      form: form,
      start: field("start"), end: field("end"), undated: field("undated"),
      q: field("q"), country: field("country"), minScore: field("min_score"),
      areas: field("areas"),
      roles: form ? Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox][name=role]")) : [],
      scoreValue: doc.querySelector(".mapapp-score-value"),
      count: doc.querySelector(".mapapp-count"),
      error: doc.querySelector(".mapapp-error"),
      fit: doc.querySelector(".mapapp-fit"),
      presets: Array.prototype.slice.call(doc.querySelectorAll("[data-preset]")),
      undatedCount: doc.querySelector(".mapapp-undated-count"),
      range: doc.querySelector(".mapapp-range"),
      timeline: doc.querySelector(".mapapp-timeline"),
      exports: Array.prototype.slice.call(doc.querySelectorAll("a.mapapp-export")),
      list: doc.querySelector(".mapapp-list"),
      listCount: doc.querySelector(".mapapp-list-count")
    };
  }

  function PlacesLayer(map, options) {
    this.map = map;
    this.options = options;
    var s = options.state || {};
    this.state = {start: s.start || "", end: s.end || "", undated: s.undated !== false,
                  q: s.q || "", country: s.country || "", roles: (s.roles || []).slice(),
                  minScore: +s.minScore || 0, areas: s.areas !== false};
    var self = this;
    this.ui = {roles: [], presets: [], exports: []};  // until the page's controls exist
    this.markers = [];
    this.shown = null;
    this.outlineLayers = new Map();
    this.evidence = new Map();
    this.busy = false;
    this.again = false;
    this.firstDraw = true;
    // Clustering stops at street-level zooms: fewer levels to build per marker
    // (a third less work at 50,000 markers); places there are far enough apart.
    this.cluster = L.markerClusterGroup({
      chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 45,
      disableClusteringAtZoom: 12, chunkProgress: this._progress.bind(this)
    }).addTo(map);
    this.popup = L.popup({maxWidth: 380, minWidth: 240, autoPanPadding: [30, 30],
                          offset: [0, -4]});
    this.cluster.on("click", function (event) { self.openPopup(event.layer); });
    this.outlines = L.layerGroup().addTo(map);
    this.outlineRenderer = L.canvas({padding: 0.5});
    new Legend().addTo(map);
    this.saveUrl = debounce(this._saveUrl.bind(this), 150);
    // The map's script runs before the controls below it are parsed: fetch the
    // points now, and wire the controls once they exist.
    var points = this.load();
    var parsed = new Promise(function (resolve) {
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", resolve);
      } else {
        resolve();
      }
    }).then(function () {
      self.ui = findUi(document);
      self._status("loading");
      self._bind();
    });
    Promise.all([points, parsed])
      .then(function (done) { self.ready(new window.mapapp.MapData(done[0])); })
      .catch(function (err) { self._fail("The places could not be loaded (" + err.message + ")."); });
  }

  // The points payload (a promise of its JSON).
  PlacesLayer.prototype.load = function () {
    return fetch(this.options.url, {credentials: "same-origin",
                                    headers: {Accept: "application/json"}})
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error((body && body.error) || "HTTP " + response.status); }
          return body;
        });
      });
  };

  PlacesLayer.prototype.ready = function (data) {
    var self = this;
    this.data = data;
    this.markers = new Array(data.placeCount);
    this.shown = new Uint8Array(data.placeCount);
    if (this.ui.timeline) {
      this.timeline = new window.mapapp.Timeline(this.ui.timeline, {
        firstDay: data.firstDay, lastDay: data.lastDay,
        onChange: function (start, end) {
          self.state.start = start === null ? "" : window.mapapp.isoDay(start);
          self.state.end = end === null ? "" : window.mapapp.isoDay(end);
          self._showDates();
          self.refresh();
        }
      });
    }
    this._showDates();
    this.map.on("moveend", function () { self._list(); self.saveUrl(); });
    if (this.map.mapappOutlines) { this._indexOutlines(this.map.mapappOutlines); }
    this.map.on("mapapp:outlines", function (e) { self._indexOutlines(e.data); self._drawOutlines(); });
    this.refresh();
  };

  // -- state from the controls -----------------------------------------------

  PlacesLayer.prototype._bind = function () {
    var ui = this.ui, self = this;
    if (!ui.form) { return; }
    ui.form.addEventListener("submit", function (event) {
      event.preventDefault();
      self._readControls();
    });
    var later = debounce(function () { self._readControls(); }, 120);
    [ui.q].forEach(function (input) { if (input) { input.addEventListener("input", later); } });
    [ui.country, ui.undated, ui.areas, ui.start, ui.end].concat(ui.roles).forEach(function (input) {
      if (input) { input.addEventListener("change", function () { self._readControls(); }); }
    });
    if (ui.minScore) {
      ui.minScore.addEventListener("input", function () {
        if (ui.scoreValue) { ui.scoreValue.textContent = (+ui.minScore.value).toFixed(2); }
        later();
      });
    }
    ui.presets.forEach(function (button) {
      button.addEventListener("click", function () { self.preset(button.getAttribute("data-preset")); });
    });
    if (ui.fit) { ui.fit.addEventListener("click", function () { self.fit(); }); }
  };

  PlacesLayer.prototype._readControls = function () {
    var ui = this.ui, state = this.state;
    var start = ui.start ? ui.start.value : state.start, end = ui.end ? ui.end.value : state.end;
    if (start && end && start > end) {
      this._fail("The start date " + start + " is after the end date " + end + ".");
      return;
    }
    state.start = start;
    state.end = end;
    if (ui.undated) { state.undated = ui.undated.checked; }
    if (ui.q) { state.q = ui.q.value.trim(); }
    if (ui.country) { state.country = ui.country.value; }
    if (ui.roles.length) {
      state.roles = ui.roles.filter(function (r) { return r.checked; })
        .map(function (r) { return r.value; });
    }
    if (ui.minScore) { state.minScore = +ui.minScore.value || 0; }
    if (ui.areas) { state.areas = ui.areas.checked; }
    this.refresh();
  };

  // Presets count back from the newest story, not from today.
  PlacesLayer.prototype.preset = function (name) {
    var data = this.data;
    if (!data) { return; }
    if (name === "all" || data.lastDay === null) {
      this.state.start = this.state.end = "";
    } else {
      this.state.start = window.mapapp.isoDay(data.lastDay - (+name - 1));
      this.state.end = window.mapapp.isoDay(data.lastDay);
    }
    this._showDates();
    this.refresh();
  };

  PlacesLayer.prototype._showDates = function () {
    var ui = this.ui, state = this.state, dayNumber = window.mapapp.dayNumber;
    if (ui.start) { ui.start.value = state.start; }
    if (ui.end) { ui.end.value = state.end; }
    if (this.timeline) { this.timeline.setSelection(dayNumber(state.start), dayNumber(state.end)); }
  };

  // -- filtering and drawing -------------------------------------------------

  PlacesLayer.prototype.refresh = function () {
    if (!this.data) { return; }
    var result = this.result = this.data.filter(this.state), ui = this.ui;
    if (ui.error) { ui.error.hidden = true; }
    if (this.timeline) { this.timeline.setCounts(this.data.story.day, result.storyBase); }
    this._counts(result);
    if (this.popup.isOpen() && !result.placeShown[this.popupPlace]) { this.map.closePopup(this.popup); }
    this._draw();
    this._drawOutlines();
    this._list();
    this._exports();
    this.saveUrl();
  };

  PlacesLayer.prototype._counts = function (result) {
    var ui = this.ui, form = ui.form;
    if (ui.count) {
      ui.count.textContent = plural(result.places, "place", "places") + " in " +
        plural(result.stories, "story", "stories") + " (" +
        plural(result.mentions, "mention", "mentions") + ")";
    }
    if (form) {
      form.setAttribute("data-places", result.places);
      form.setAttribute("data-stories", result.stories);
      form.setAttribute("data-mentions", result.mentions);
    }
    if (ui.undatedCount) { ui.undatedCount.textContent = "(" + result.undatedStories + ")"; }
    if (ui.range) {
      var s = this.state;
      ui.range.textContent = (s.start || s.end
        ? (s.start || "\u2026") + " to " + (s.end || "\u2026") : "All dates") +
        (s.undated ? ", with undated stories" : "");
    }
  };

  PlacesLayer.prototype.marker = function (p) {
    var marker = this.markers[p];
    if (marker) { return marker; }
    var d = this.data.place, self = this;
    marker = L.marker([d.lat[p], d.lon[p]], {
      icon: icon(d.area[p], false), title: d.name[p] || "", keyboard: true, riseOnHover: true
    });  // no popup of its own: one shared popup (openPopup) keeps 50,000 markers light
    marker.mapappPlace = p;
    marker.mapappUncertain = false;
    this.markers[p] = marker;
    return marker;
  };

  // Re-cluster: add and remove only the places whose visibility changed.
  PlacesLayer.prototype._draw = function () {
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
    if (this.firstDraw && this.options.fit) { this.fit(); }
    this.firstDraw = false;
    if (remove.length > 1000 && remove.length * 2 > shownBefore) {
      this.cluster.clearLayers();
      add = [];
      for (p = 0; p < data.placeCount; p++) { if (this.shown[p]) { add.push(this.markers[p]); } }
    } else if (remove.length) {
      this.cluster.removeLayers(remove);
    }
    this.busy = true;
    this._status("loading");
    this.cluster.addLayers(add);
  };

  PlacesLayer.prototype._progress = function (processed, total) {
    if (processed !== total || !this.busy) { return; }
    var self = this;
    window.setTimeout(function () {
      self.busy = false;
      if (self.again) {
        self.again = false;
        self._draw();
        return;
      }
      self._status("ready");
      self._list();
      if (!self.drawnOnce) {
        self.drawnOnce = true;
        if (window.performance && performance.mark) { performance.mark("mapapp-drawn"); }
      }
    }, 0);
  };

  PlacesLayer.prototype.fit = function () {
    var data = this.data, result = this.result, points = [];
    if (!data) { return; }
    for (var p = 0; p < data.placeCount; p++) {
      if (result.placeShown[p]) { points.push([data.place.lat[p], data.place.lon[p]]); }
    }
    if (points.length) {
      this.map.fitBounds(L.latLngBounds(points), {padding: [40, 40], maxZoom: 6, animate: false});
    }
  };

  // -- country outlines --------------------------------------------------------

  PlacesLayer.prototype._indexOutlines = function (geojson) {
    var byIso = new Map();
    (geojson && geojson.features || []).forEach(function (f) {
      var iso = f.properties && f.properties.iso;
      if (iso) { byIso.set(iso, f); }
    });
    this.outlineFeatures = byIso;
  };

  // A country named in the shown stories is drawn as its outline, not just a ring.
  PlacesLayer.prototype._drawOutlines = function () {
    if (!this.outlineFeatures || !this.result) { return; }
    var data = this.data, result = this.result, wanted = new Map(), low = data.lowScore;
    for (var p = 0; p < data.placeCount; p++) {
      var code = data.place.code[p] || "";
      if (!result.placeShown[p] || code.indexOf("PCL") !== 0) { continue; }
      var iso = data.place.countryUpper[p];
      if (this.outlineFeatures.has(iso)) {
        wanted.set(iso, (wanted.get(iso) || false) || result.placeBest[p] >= low);
      }
    }
    var self = this;
    this.outlineLayers.forEach(function (layer, iso) {
      if (!wanted.has(iso) || layer.mapappSure !== wanted.get(iso)) {
        self.outlines.removeLayer(layer);
        self.outlineLayers.delete(iso);
      }
    });
    wanted.forEach(function (sure, iso) {
      if (self.outlineLayers.has(iso)) { return; }
      var layer = L.geoJSON(self.outlineFeatures.get(iso), {
        interactive: false, renderer: self.outlineRenderer,
        style: {color: "#6c3483", weight: sure ? 1.6 : 1.2, opacity: sure ? 0.9 : 0.5,
                fillColor: "#6c3483", fillOpacity: sure ? 0.1 : 0.04,
                dashArray: sure ? null : "4 4"}
      });
      layer.mapappSure = sure;
      self.outlineLayers.set(iso, layer);
      self.outlines.addLayer(layer);
    });
    if (this.ui.form) { this.ui.form.setAttribute("data-outlines", this.outlineLayers.size); }
  };

  // -- the popup: the place, its evidence, its stories -------------------------

  PlacesLayer.prototype._storyUrl = function (s) {
    return this.options.storyUrl.replace("ARTICLE-ID", encodeURIComponent(this.data.story.id[s]));
  };

  // The shared popup, filled for a marker's place as the filters stand now.
  PlacesLayer.prototype.openPopup = function (marker) {
    var box = this._popup(marker.mapappPlace);
    this.popup.setLatLng(marker.getLatLng()).setContent(box).openOn(this.map);
    this.popupPlace = marker.mapappPlace;
  };

  PlacesLayer.prototype._popup = function (p) {
    var data = this.data, place = data.place, box = el("div", "mapapp-popup");
    var stories = data.storiesAt(this.result, p), best = this.result.placeBest[p];
    box.appendChild(el("h3", null, place.name[p]));
    var country = place.country[p], named = data.countryNames[country];
    var where = [place.admin1[p], named ? named + " (" + country + ")" : country]
      .filter(Boolean).join(", ");
    if (where) { box.appendChild(el("p", "mapapp-where", where)); }
    box.appendChild(el("p", "mapapp-kind", place.area[p]
      ? "An area (" + (place.code[p] || "region") + "): the ring marks no exact spot"
      : "A point (" + (place.code[p] || "place") + ")"));
    var mentions = stories.reduce(function (n, s) { return n + s.mentions.length; }, 0);
    box.appendChild(el("p", "mapapp-summary", plural(stories.length, "story", "stories") + ", " +
      plural(mentions, "mention", "mentions") + " in this view \u00b7 best score " +
      (best >= 0 ? score(best) : "n/a")));
    if (best >= 0 && best < data.lowScore) {
      box.appendChild(el("p", "mapapp-low", "Low confidence: the resolver was not sure this is the right place."));
    }
    var list = el("ul", "mapapp-stories"), wanted = [], self = this;
    stories.slice(0, POPUP_STORIES).forEach(function (entry) {
      var s = entry.story, m = data.bestMention(entry.mentions), item = el("li");
      item.appendChild(el("span", "mapapp-date", data.story.published[s] || "undated"));
      item.appendChild(document.createTextNode(" "));
      var url = self._storyUrl(s), link = el(ownPath(url) ? "a" : "span", "mapapp-headline",
                                             data.story.headline[s] || "(no headline)");
      if (link.tagName === "A") { link.href = url; }
      item.appendChild(link);
      var roles = [];
      entry.mentions.forEach(function (k) {
        var r = data.roles[data.mention.role[k]];
        if (roles.indexOf(r) < 0) { roles.push(ROLE_LABELS[r] || r); }
      });
      item.appendChild(el("span", "mapapp-meta", " " + roles.join(", ") + " \u00b7 score " +
                          score(data.mention.score[m])));
      var quote = el("blockquote", "mapapp-evidence", "\u2026");
      quote.setAttribute("data-mention", m);
      item.appendChild(quote);
      list.appendChild(item);
      wanted.push(m);
    });
    box.appendChild(list);
    if (stories.length > POPUP_STORIES) {
      box.appendChild(el("p", "mapapp-more", "and " + plural(stories.length - POPUP_STORIES,
        "more story", "more stories") + ": narrow the dates or search to see them"));
    }
    this._evidence(wanted, box);
    return box;
  };

  // Fill each blockquote with its sentence, the place name marked (fetched once per mention).
  PlacesLayer.prototype._evidence = function (rows, box) {
    var self = this, missing = rows.filter(function (m) { return !self.evidence.has(m); });
    function fill() {
      box.querySelectorAll("blockquote[data-mention]").forEach(function (quote) {
        var found = self.evidence.get(+quote.getAttribute("data-mention"));
        if (!found) { return; }
        quote.textContent = "";
        if (!found.before && !found.match && !found.after) {
          quote.appendChild(el("span", "mapapp-nosentence", "(no sentence stored)"));
        } else {
          quote.appendChild(document.createTextNode(found.before));
          if (found.match) { quote.appendChild(el("mark", null, found.match)); }
          quote.appendChild(document.createTextNode(found.after));
        }
      });
      box.setAttribute("data-evidence", "ready");
      if (self.popup.isOpen() && self.popup.getContent() === box) { self.popup.update(); }
    }
    if (!missing.length) { window.setTimeout(fill, 0); return; }
    var url = this.options.evidenceUrl + "?" + new URLSearchParams(
      {v: this.data.version, m: missing.join(",")}).toString();
    fetch(url, {credentials: "same-origin"})
      .then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      })
      .then(function (result) {
        if (!result.ok) { throw new Error((result.body && result.body.error) || "HTTP error"); }
        result.body.evidence.forEach(function (e) { self.evidence.set(e.m, e); });
        fill();
      })
      .catch(function (err) {
        box.querySelectorAll("blockquote[data-mention]").forEach(function (quote) {
          quote.textContent = "The sentence could not be loaded: " + err.message;
        });
        box.setAttribute("data-evidence", "error");
      });
  };

  // -- the side list: stories in view ----------------------------------------

  PlacesLayer.prototype._inView = function () {
    var data = this.data, result = this.result, bounds = this.map.getBounds();
    var wide = bounds.getEast() - bounds.getWest() >= 360;
    var south = bounds.getSouth(), north = bounds.getNorth();
    var west = bounds.getWest(), east = bounds.getEast();
    var seen = new Uint8Array(data.storyCount), stories = [];
    for (var p = 0; p < data.placeCount; p++) {
      if (!result.placeShown[p]) { continue; }
      var lat = data.place.lat[p], lon = data.place.lon[p];
      if (!wide) {
        if (lat < south || lat > north) { continue; }
        if (!((lon >= west && lon <= east) || (lon + 360 >= west && lon + 360 <= east) ||
              (lon - 360 >= west && lon - 360 <= east))) { continue; }
      }
      for (var i = data.byPlace.start[p]; i < data.byPlace.start[p + 1]; i++) {
        var m = data.byPlace.rows[i], s = data.mention.story[m];
        if (result.pass[m] && !seen[s]) { seen[s] = 1; stories.push(s); }
      }
    }
    return stories.sort(function (a, b) { return data.compareStories(a, b); });
  };

  PlacesLayer.prototype._list = function () {
    var ui = this.ui, list = ui.list;
    if (!list || !this.data || !this.result) { return; }
    var stories = this._inView(), data = this.data, self = this;
    var focused = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-story") : null;
    list.textContent = "";
    stories.slice(0, LIST_STORIES).forEach(function (s) {
      var item = el("li", "mapapp-list-item");
      var button = el("button", "mapapp-story", data.story.headline[s] || "(no headline)");
      button.type = "button";
      button.setAttribute("data-story", data.story.id[s]);
      button.addEventListener("click", function () { self.showStory(s); });
      item.appendChild(button);
      var meta = el("span", "mapapp-list-meta", data.story.published[s] || "undated");
      item.appendChild(meta);
      var url = self._storyUrl(s);
      if (ownPath(url)) {
        var open = el("a", "mapapp-open", "Read");
        open.href = url;
        open.setAttribute("aria-label", "Read the story: " + (data.story.headline[s] || ""));
        item.appendChild(open);
      }
      list.appendChild(item);
    });
    if (focused) {
      var again = list.querySelector("button[data-story='" + CSS.escape(focused) + "']");
      if (again) { again.focus({preventScroll: true}); }
    }
    if (ui.listCount) {
      ui.listCount.textContent = plural(stories.length, "story", "stories") + " in view" +
        (stories.length > LIST_STORIES ? " (the newest " + LIST_STORIES + " listed: zoom in for the rest)" : "");
    }
    if (ui.form) { ui.form.setAttribute("data-in-view", stories.length); }
    if (!list.mapappKeys) {
      list.mapappKeys = true;
      list.addEventListener("keydown", function (event) { self._listKey(event); });
    }
  };

  PlacesLayer.prototype._listKey = function (event) {
    var buttons = Array.prototype.slice.call(this.ui.list.querySelectorAll("button.mapapp-story"));
    var at = buttons.indexOf(document.activeElement), next = null;
    if (event.key === "ArrowDown") { next = Math.min(buttons.length - 1, at + 1); }
    else if (event.key === "ArrowUp") { next = Math.max(0, at - 1); }
    else if (event.key === "Home") { next = 0; }
    else if (event.key === "End") { next = buttons.length - 1; }
    if (next === null || !buttons.length) { return; }
    event.preventDefault();
    buttons[next].focus();
  };

  // Zoom to a story's place (its dateline or focus first) and open the popup there.
  PlacesLayer.prototype.showStory = function (s) {
    var data = this.data, result = this.result, best = null;
    for (var i = data.byStory.start[s]; i < data.byStory.start[s + 1]; i++) {
      var m = data.byStory.rows[i];
      if (result.pass[m] && (best === null || data.mention.role[m] < data.mention.role[best])) { best = m; }
    }
    if (best === null) { return; }
    var marker = this.marker(data.mention.place[best]), self = this;
    this.cluster.zoomToShowLayer(marker, function () { self.openPopup(marker); });
  };

  // -- the address bar and the export links ------------------------------------

  PlacesLayer.prototype._saveUrl = function () {
    if (!this.data) { return; }
    var params = stateParams(this.state, this.data.roles), centre = this.map.getCenter().wrap();
    params.set("lat", centre.lat.toFixed(4));
    params.set("lon", centre.lng.toFixed(4));
    params.set("zoom", String(Math.round(this.map.getZoom())));
    history.replaceState(null, "", location.pathname + "?" + params.toString() + location.hash);
  };

  PlacesLayer.prototype._exports = function () {
    var query = stateParams(this.state, this.data.roles).toString(), template = this.options.exportUrl;
    this.ui.exports.forEach(function (link) {
      link.href = template.replace("FORMAT", link.getAttribute("data-format")) +
                  (query ? "?" + query : "");
    });
  };

  PlacesLayer.prototype._status = function (state) {
    if (this.ui.form) { this.ui.form.setAttribute("data-state", state); }
  };

  PlacesLayer.prototype._fail = function (message) {
    if (this.ui.error) {
      this.ui.error.textContent = message;
      this.ui.error.hidden = false;
    }
    this._status("error");
  };

  window.mapapp = window.mapapp || {};
  window.mapapp.placesLayer = function (map, options) {
    var layer = new PlacesLayer(map, options);
    window.mapapp.layer = layer;
    return layer;
  };
  window.mapapp.stateParams = stateParams;
}());

/* mapapp: the main map, put together from the modules below (mapapp.placesLayer).
 *
 * Loads every mappable mention once (/api/points), then does all filtering in
 * the browser: the timeline brush, date fields and presets, the undated
 * toggle, search, country, roles, minimum score and the areas toggle
 * re-filter and re-cluster only the markers that changed.  Popups show the
 * evidence, the side list follows the map, and the address bar holds the
 * whole state so a link reproduces the view (the server opens the page on
 * the same state).  Text from the data reaches the page only through
 * textContent.
 *
 * No bundler: plain <script> tags load these files in this order
 * (PlacesLayer.default_js in mapapp/maps/elements.py), each adding one name
 * to window.mapapp, and a module uses only the names listed here:
 *   mapdata.js   MapData(payload): the columns, filter(state) -> result,
 *                storiesAt, storiesWithin, leadPlace, ...; dayNumber, isoDay
 *   timeline.js  Timeline(box, {firstDay, lastDay, onChange}): setCounts, setSelection
 *   dom.js       dom.el, dom.plural, dom.ownPath, dom.score, dom.debounce
 *   urlstate.js  urlState.params(state, roles), .save(map, state, roles),
 *                .exportLinks(links, template, state, roles)
 *   controls.js  Controls(document, {onFilters, onPreset, onFit}): values, showDates,
 *                showCounts, report, setStatus, fail, clearError
 *   clusters.js  Clusters(map, {onClick, onBusy, onDrawn}): setData, show(result),
 *                marker(p), zoomTo(p, done), markers; Legend (a Leaflet control)
 *   outlines.js  Outlines(map): index(geojson), show(data, result) -> count
 *   popups.js    Popups(map, {evidenceUrl, storyUrl}): open(marker, data, result),
 *                closeIfHidden(result)
 *   storylist.js StoryList(document, map, {storyUrl, onPick, onCount}): show(data, result)
 *   events.js    EventsLayer(map, {url, state, onSwitch, onChange}): show(), active()
 *   corrections.js corrections.button({mentionId, written, context, onChange, onClose}):
 *                "Wrong place?" and its dialog; the layer reloads the points after a change
 *   map.js       placesLayer(map, options) -> PlacesLayer, also kept as mapapp.layer
 * PlacesLayer alone holds the filter state, the data and the latest filter
 * result, and hands them to the modules; no module holds another.
 *
 * The page's own scripts (live.js, notices.js, upload.js, loaded with defer
 * after this one) work through mapapp.layer: reload(data), clearFilters(),
 * and the events it fires on the map: "mapapp:filtered" {result} after each
 * filter, "mapapp:drawn" once every marker is on the map, "mapapp:failed"
 * {message} when the points could not be loaded.
 */
(function () {
  "use strict";

  var mapapp = window.mapapp;

  // The JSON a GET of ``url`` answers (a promise), or its error message as the rejection.
  function fetchJson(url, cache) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"},
                       cache: cache || "default"})
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error((body && body.error) || "HTTP " + response.status); }
          return body;
        });
      });
  }

  // A promise kept once ``doc`` is parsed.
  function parsed(doc) {
    return new Promise(function (resolve) {
      if (doc.readyState === "loading") {
        doc.addEventListener("DOMContentLoaded", resolve);
      } else {
        resolve();
      }
    });
  }

  /* ``options``: url (the points), evidenceUrl, storyUrl and exportUrl (with
   * ARTICLE-ID and FORMAT to replace), state (the initial filters, as
   * MapView.state) and fit (fit the map to the places on the first draw). */
  function PlacesLayer(map, options) {
    var self = this, s = options.state || {};
    this.map = map;
    this.options = options;
    this.state = {start: s.start || "", end: s.end || "", undated: s.undated !== false,
                  q: s.q || "", country: s.country || "", roles: (s.roles || []).slice(),
                  minScore: +s.minScore || 0, areas: s.areas !== false,
                  layer: s.layer || "events", types: (s.types || []).slice(), dates: s.dates || "event"};
    this.data = null;
    this.result = null;
    this.timeline = null;
    this.controls = null;     // these four once the page is parsed
    this.list = null;
    this.timelineBox = null;
    this.exportLinks = [];
    this.firstDraw = true;
    this.drawnOnce = false;
    this.clusters = new mapapp.Clusters(map, {
      onClick: function (marker, byKeyboard) { self.openPopup(marker, byKeyboard); },
      onBusy: function () { self.controls.setStatus("loading"); },
      onDrawn: function () { self._drawn(); }
    });
    var storyUrl = function (story) { return self._storyUrl(story); };
    this.popups = new mapapp.Popups(map, {evidenceUrl: options.evidenceUrl, storyUrl: storyUrl,
                                          correct: function (m, s) { return self._wrong(m, s); }});
    this.outlines = new mapapp.Outlines(map);
    new mapapp.Legend().addTo(map);
    this.events = new mapapp.EventsLayer(map, {  // the default view, when events are stored
      url: options.eventsUrl, state: this.state,
      onSwitch: function () { self._eventsChanged(); }, onChange: function () { self._eventsChanged(); }
    });
    this.saveUrl = mapapp.dom.debounce(this._saveUrl.bind(this), 150);
    // The map's script runs before the controls below it are parsed: fetch the
    // points now, and wire the controls once they exist.
    var points = fetchJson(options.url);
    var page = parsed(document).then(function () {
      self.controls = new mapapp.Controls(document, {
        onFilters: function (values) { self.setFilters(values); },
        onPreset: function (name) { self.preset(name); },
        onFit: function () { self.fit(); }
      });
      self.list = new mapapp.StoryList(document, map, {
        storyUrl: storyUrl,
        onPick: function (story) { self.showStory(story); },
        onCount: function (n) { self.controls.report("in-view", n); }
      });
      self.timelineBox = document.querySelector(".mapapp-timeline");
      self.exportLinks = Array.prototype.slice.call(document.querySelectorAll("a.mapapp-export"));
      self.controls.setStatus("loading");
    });
    Promise.all([points, page])
      .then(function (done) { self.ready(new mapapp.MapData(done[0])); })
      .catch(function (err) {
        page.then(function () {
          var message = "The places could not be loaded (" + err.message + ").";
          self.controls.fail(message);
          map.fire("mapapp:failed", {message: message});
        });
      });
  }

  // The markers made so far, by place (for the tests and the console).
  Object.defineProperty(PlacesLayer.prototype, "markers", {
    get: function () { return this.clusters.markers; }
  });

  PlacesLayer.prototype.ready = function (data) {
    var self = this;
    this.data = data;
    this.clusters.setData(data);
    this._makeTimeline();
    this._showDates();
    this.map.on("moveend", function () { self.list.show(self.data, self.result); self.saveUrl(); });
    if (this.map.mapappOutlines) { this.outlines.index(this.map.mapappOutlines); }
    this.map.on("mapapp:outlines", function (e) {
      self.outlines.index(e.data);
      self._drawOutlines();
    });
    this.refresh();
  };

  // The timeline for this.data's dates (in a fresh box when one was drawn before, so that the
  // old one's listeners go with its box).
  PlacesLayer.prototype._makeTimeline = function () {
    var self = this, box = this.timelineBox, data = this.data;
    if (!box) { return; }
    if (this.timeline) {
      var fresh = box.cloneNode(false);
      box.parentNode.replaceChild(fresh, box);
      box = this.timelineBox = fresh;
    }
    this.timeline = new mapapp.Timeline(box, {
      firstDay: data.firstDay, lastDay: data.lastDay,
      onChange: function (start, end) {
        self.state.start = start === null ? "" : mapapp.isoDay(start);
        self.state.end = end === null ? "" : mapapp.isoDay(end);
        self._showDates();
        self.refresh();
      }
    });
  };

  /* New points (a MapData of a newer store version, for live.js): drawn with the
   * filters and the map's view as they stand.  Waits for a re-cluster under way. */
  PlacesLayer.prototype.reload = function (data) {
    var self = this;
    if (!this.data) { return; }
    if (this.clusters.busy) {
      this.map.once("mapapp:drawn", function () { self.reload(data); });
      return;
    }
    this.map.closePopup();
    this.popups.evidence = new Map();  // mention rows are numbered per version
    this.clusters.group.clearLayers();
    this.clusters.setData(data);
    this.data = data;
    this._makeTimeline();
    this._showDates();
    this.refresh();
  };

  // -- the state -------------------------------------------------------------

  // Every filter back to its default (the empty state's "clear filters").
  PlacesLayer.prototype.clearFilters = function () {
    this.state = {start: "", end: "", undated: true, q: "", country: "",
                  roles: this.data ? this.data.roles.slice() : [], minScore: 0, areas: true};
    this.controls.show(this.state);
    this._showDates();
    this.refresh();
  };

  // Filters from the controls (Controls.values): applied unless the dates are the wrong way round.
  PlacesLayer.prototype.setFilters = function (values) {
    var state = this.state;
    var start = "start" in values ? values.start : state.start;
    var end = "end" in values ? values.end : state.end;
    var bad = [start, end].filter(function (day) { return day && mapapp.dayNumber(day) === null; });
    if (bad.length) {
      this.controls.fail("Bad date '" + bad[0] + "': use YYYY-MM-DD, as 2024-03-01.");
      return;
    }
    if (start && end && start > end) {
      this.controls.fail("The start date " + start + " is after the end date " + end + ".");
      return;
    }
    var country = values.country && values.country !== state.country;
    Object.keys(values).forEach(function (key) { state[key] = values[key]; });
    this.refresh();
    if (country) { this.fit(); }  // choosing a country zooms to it
  };

  // Presets count back from the newest story, not from today.
  PlacesLayer.prototype.preset = function (name) {
    var data = this.data;
    if (!data) { return; }
    if (name === "all" || data.lastDay === null) {
      this.state.start = this.state.end = "";
    } else {
      this.state.start = mapapp.isoDay(data.lastDay - (+name - 1));
      this.state.end = mapapp.isoDay(data.lastDay);
    }
    this._showDates();
    this.refresh();
  };

  PlacesLayer.prototype._showDates = function () {
    var state = this.state, dayNumber = mapapp.dayNumber;
    this.controls.showDates(state.start, state.end);
    if (this.timeline) { this.timeline.setSelection(dayNumber(state.start), dayNumber(state.end)); }
  };

  // -- filtering and drawing -------------------------------------------------

  PlacesLayer.prototype.refresh = function () {
    if (!this.data) { return; }
    var data = this.data, result = this.result = data.filter(this.state);
    this.controls.clearError();
    if (this.timeline) { this.timeline.setCounts(data.story.day, result.storyBase); }
    this.controls.showCounts(result, this.state);
    this.popups.closeIfHidden(result);
    if (this.firstDraw && this.options.fit) { this.fit(); }
    this.firstDraw = false;
    this.clusters.show(result);
    this.events.show();
    this._drawOutlines();
    this.list.show(data, result);
    mapapp.urlState.exportLinks(this.exportLinks, this.options.exportUrl, this.state, data.roles);
    this.saveUrl();
    this.map.fire("mapapp:filtered", {result: result});
  };

  PlacesLayer.prototype._drawOutlines = function () {
    var count = this.outlines.show(this.data, this.result);
    if (count !== null) { this.controls.report("outlines", count); }
  };

  // Every marker of the latest result is on the map.
  PlacesLayer.prototype._drawn = function () {
    this.controls.setStatus("ready");
    this.list.show(this.data, this.result);
    this.map.fire("mapapp:drawn");
    if (!this.drawnOnce) {
      this.drawnOnce = true;
      if (window.performance && performance.mark) { performance.mark("mapapp-drawn"); }
    }
  };

  // Fit the map to the places shown.
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

  // -- popups, stories and the address bar -------------------------------------

  // The shared popup, filled for a marker's place as the filters stand now (focused from the keyboard).
  PlacesLayer.prototype.openPopup = function (marker, byKeyboard) {
    this.popups.open(marker, this.data, this.result, byKeyboard);
  };

  // Zoom to a story's place (its dateline or focus first) and open the popup there.
  PlacesLayer.prototype.showStory = function (story) {
    var place = this.data.leadPlace(this.result, story), self = this;
    if (place === null) { return; }
    this.clusters.zoomTo(place, function (marker) { self.openPopup(marker); });
  };

  // -- corrections -------------------------------------------------------------

  // "Wrong place?" for mention m of story s in the popup (null when the page may not write).
  PlacesLayer.prototype._wrong = function (m, s) {
    var data = this.data, ids = data.mention.id, self = this, moved = null, button = null;
    if (!ids || !mapapp.corrections) { return null; }
    button = mapapp.corrections.button({
      mentionId: ids[m], written: data.place.name[data.mention.place[m]],
      context: "In \u201c" + (data.story.headline[s] || "(no headline)") + "\u201d",
      onChange: function (change) {
        moved = change.place && change.place.geonameid !== null ? "g" + change.place.geonameid : null;
        self.reload(moved);
      },
      onClose: function () { if (!document.contains(button)) { self._refocus(); } }
    });
    return button;
  };

  // The focus was lost with a redrawn popup: to the new popup's heading, else to the map.
  PlacesLayer.prototype._refocus = function () {
    if (document.querySelector(".mapapp-dialog")) { return; }  // the dialog keeps it
    var box = this.popups.popup.isOpen() && this.popups.popup.getElement();
    if (box) {
      box.querySelector("h3").focus({preventScroll: true});
    } else {
      this.map.getContainer().focus({preventScroll: true});
    }
  };

  // Fetch the points again (after a correction) and redraw; then open the popup at place ``key``.
  PlacesLayer.prototype.reload = function (key) {
    var self = this;
    return fetchJson(this.options.url, "no-cache").then(function (payload) {
      self.popups.reset();
      self.data = new mapapp.MapData(payload);
      self.clusters.setData(self.data);
      self.refresh();
      var p = key ? self.data.place.key.indexOf(key) : -1, lost = function () {
        var active = document.activeElement;
        if (!active || active === document.body || active === self.map.getContainer()) {
          self._refocus();
        }
      };
      lost();  // at once: the old popup went with its button (zooming may take a while)
      if (p >= 0 && self.result.placeShown[p]) {
        self.clusters.zoomTo(p, function (marker) { self.openPopup(marker); lost(); });
      }
      self.map.fire("mapapp:reloaded");
      return self.data;
    }).catch(function (err) {
      self.controls.fail("The places could not be reloaded (" + err.message + ").");
    });
  };

  PlacesLayer.prototype._storyUrl = function (story) {
    return this.options.storyUrl.replace("ARTICLE-ID", encodeURIComponent(this.data.story.id[story]));
  };

  // The events layer's switch, types or date field changed: the URL and export links follow.
  PlacesLayer.prototype._eventsChanged = function () {
    if (this.data) {
      mapapp.urlState.exportLinks(this.exportLinks, this.options.exportUrl, this.state, this.data.roles);
    }
    this.saveUrl();
  };

  PlacesLayer.prototype._saveUrl = function () {
    if (!this.data) { return; }
    mapapp.urlState.save(this.map, this.state, this.data.roles);
  };

  mapapp.placesLayer = function (map, options) {
    var layer = new PlacesLayer(map, options);
    mapapp.layer = layer;
    return layer;
  };
}());

/* mapapp: the events layer, the map's default view (mapapp.EventsLayer, mapapp.eventSymbol).
 *
 * Loads every located event once (/api/events) and draws one marker per
 * (event, place): its symbol says the event's type, its size the people
 * killed and injured.  The control beside the map switches between events
 * and mentions, chooses which date the date filter reads (the event's or
 * the story's publication date) and lists the types with their symbols,
 * each a checkbox (the type filter).  The filters it shares with the
 * mentions (dates, undated, search, country) come from the main map's state.
 *
 * new EventsLayer(map, {url, state, onSwitch(layer), onChange()}): ``state``
 * is PlacesLayer's state object (read, and written for layer, types and
 * dates); show() redraws after any change; active() says if it is the view.
 * Symbols are small inline SVG drawn from constants here (no data in them);
 * text from the data reaches the page only through textContent.
 */
(function () {
  "use strict";

  var dom = window.mapapp.dom, el = dom.el;
  var SVG = "http://www.w3.org/2000/svg";
  // type -> [colour, shape]; shapes are drawn in a 20x20 box.
  var SYMBOLS = {
    armed_clash: ["#c0392b", "cross"],
    attack: ["#7b241c", "star"],
    shelling: ["#d35400", "diamond"],
    violence_against_civilians: ["#7d3c98", "triangle"],
    protest: ["#1f6fb2", "square"],
    riot: ["#1b2f7a", "hexagon"],
    disaster: ["#138d75", "wave"],
    accident: ["#b7950b", "triangle-down"],
    diplomacy: ["#1e8449", "ring"],
    election: ["#566573", "ballot"],
    crime_justice: ["#283747", "shield"],
    health: ["#c2185b", "plus"],
    economy: ["#6e2c00", "bar"],
    other: ["#808b96", "dot"]
  };
  var SHAPES = {
    cross: "M4 7l3-3 3 3 3-3 3 3-3 3 3 3-3 3-3-3-3 3-3-3 3-3z",
    star: "M10 1l2.6 5.6 6.1.7-4.5 4.2 1.2 6.1L10 14.6l-5.4 3 1.2-6.1L1.3 7.3l6.1-.7z",
    diamond: "M10 1l9 9-9 9-9-9z",
    triangle: "M10 2l8.5 15h-17z",
    square: "M3 3h14v14H3z",
    hexagon: "M10 1.5l7.5 4.25v8.5L10 18.5l-7.5-4.25v-8.5z",
    wave: "M10 1a9 9 0 1 1 0 18a9 9 0 1 1 0-18zM4 11q3-3 6 0t6 0v2q-3 3-6 0t-6 0z",
    "triangle-down": "M1.5 3h17L10 18z",
    ring: "M10 2a8 8 0 1 1 0 16a8 8 0 1 1 0-16zm0 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8z",
    ballot: "M3 3h14v14H3zM6 10l3 3 5-6-1.5-1.2L9 10.2 7.4 8.6z",
    shield: "M10 1l8 3v5c0 5-3.5 8.5-8 10-4.5-1.5-8-5-8-10V4z",
    plus: "M7 2h6v5h5v6h-5v5H7v-5H2V7h5z",
    bar: "M2 16h16v2H2zM3 9h3v6H3zM8.5 5h3v10h-3zM14 2h3v13h-3z",
    dot: "M10 4a6 6 0 1 1 0 12a6 6 0 1 1 0-12z"
  };
  var SIZES = [[0, 18, "no one reported killed or injured"], [1, 22, "1 to 9 killed or injured"],
               [10, 28, "10 to 49"], [50, 34, "50 or more"]];
  var COUNT_LABELS = [["killed", "killed"], ["injured", "injured"], ["displaced", "displaced"],
                      ["arrested", "arrested"]];

  // The SVG element of ``type``'s symbol at ``size`` pixels (built from the constants above).
  function eventSymbol(type, size) {
    var spec = SYMBOLS[type] || SYMBOLS.other;
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 20 20");
    svg.setAttribute("width", String(size));
    svg.setAttribute("height", String(size));
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "mapapp-event-symbol");
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", SHAPES[spec[1]]);
    path.setAttribute("fill", spec[0]);
    path.setAttribute("fill-rule", "evenodd");
    path.setAttribute("stroke", "#fff");
    path.setAttribute("stroke-width", "1.2");
    path.setAttribute("stroke-linejoin", "round");
    svg.appendChild(path);
    return svg;
  }

  // Marker size in pixels for an event's killed + injured.
  function sizeFor(event) {
    var n = (event.killed || 0) + (event.injured || 0), size = SIZES[0][1];
    SIZES.forEach(function (step) { if (n >= step[0]) { size = step[1]; } });
    return size;
  }

  // A marker's icon: its own SVG element (Leaflet moves an element, so none is shared).
  function icon(type, size) {
    return L.divIcon({className: "mapapp-event mapapp-event-" + (SYMBOLS[type] ? type : "other"),
                      html: eventSymbol(type, size), iconSize: [size, size]});
  }

  function EventsLayer(map, options) {
    var self = this;
    this.map = map;
    this.options = options;
    this.state = options.state;
    if (this.state.layer !== "mentions") { this.state.layer = "events"; }
    this.state.types = (this.state.types || []).slice();
    this.state.dates = this.state.dates === "published" ? "published" : "event";
    this.events = null;
    this.types = [];
    this.markers = [];
    this.shown = 0;
    this.group = L.markerClusterGroup({
      showCoverageOnHover: false, maxClusterRadius: 24, spiderfyOnMaxZoom: true,
      iconCreateFunction: function (cluster) {
        var n = cluster.getChildCount(), inner = el("div");
        inner.appendChild(el("span", null, n));
        return L.divIcon({html: inner, iconSize: [34, 34],
                          className: "marker-cluster mapapp-event-cluster marker-cluster-" +
                                     (n < 10 ? "small" : n < 100 ? "medium" : "large")});
      }
    });
    this.popup = L.popup({maxWidth: 360, minWidth: 220, autoPanPadding: [30, 30]});
    this.control = new Switch({layer: this});
    this.control.addTo(map);
    fetch(options.url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (body) { self.ready(body); })
      .catch(function (err) { self.control.fail("The events could not be loaded (" + err.message + ")."); });
  }

  // Is the events layer the view?  Not before the events are in, nor for a store without any.
  EventsLayer.prototype.active = function () {
    return this.state.layer === "events" && this.available();
  };

  EventsLayer.prototype.available = function () { return !!(this.events && this.events.length); };

  EventsLayer.prototype.ready = function (body) {
    var self = this;
    this.events = body.events;
    this.types = body.types;
    this.markers = this.events.map(function (event, i) {
      var marker = L.marker([event.lat, event.lon], {
        icon: icon(event.type, sizeFor(event)), keyboard: true, riseOnHover: true,
        title: event.label + (event.place ? " \u00b7 " + event.place : "")
      });
      marker.mapappEvent = i;
      marker.on("click", function () { self.openPopup(marker); });
      return marker;
    });
    this.control.build(this.types, this.events);
    this.show();
  };

  // Is event ``e`` inside the current filters?
  EventsLayer.prototype._keep = function (e, state, q) {
    if (state.types.length && state.types.indexOf(e.type) < 0) { return false; }
    var first = state.dates === "published" ? e.published : (e.date_start || e.date);
    var last = state.dates === "published" ? e.published : (e.date_end || e.date);
    if (!first) {
      if (!state.undated) { return false; }
    } else if ((state.start && last < state.start) || (state.end && first > state.end)) {
      return false;
    }
    if (state.country && e.country_code !== state.country) { return false; }
    if (q) {
      var hay = [e.place, e.headline, e.sentence].join(" ").toLowerCase();
      if (hay.indexOf(q) < 0) { return false; }
    }
    return true;
  };

  // Redraw for the state as it is now (and put the right layer on the map).
  EventsLayer.prototype.show = function () {
    var map = this.map, container = map.getContainer(), active = this.active();
    container.classList.toggle("mapapp-view-events", active);
    container.classList.toggle("mapapp-view-mentions", !active);
    this.control.sync();
    if (!active) {
      if (map.hasLayer(this.group)) { map.removeLayer(this.group); }
      return;
    }
    if (!map.hasLayer(this.group)) { map.addLayer(this.group); }
    if (!this.events) { return; }
    var state = this.state, q = (state.q || "").trim().toLowerCase(), keep = [], self = this;
    var counts = {};
    this.events.forEach(function (e, i) {
      if (self._keep(e, state, q)) { keep.push(self.markers[i]); }
      if (self._keep(e, {types: [], dates: state.dates, start: state.start, end: state.end,
                         undated: state.undated, country: state.country}, q)) {
        counts[e.type] = (counts[e.type] || 0) + 1;
      }
    });
    this.group.clearLayers();
    this.group.addLayers(keep);
    this.shown = keep.length;
    this.control.counts(counts, keep.length, this.events.length);
    if (this.popup.isOpen() && keep.indexOf(this.popupMarker) < 0) { map.closePopup(this.popup); }
  };

  // Switch the view to ``layer`` ("events" or "mentions").
  EventsLayer.prototype.switchTo = function (layer) {
    this.state.layer = layer;
    this.show();
    if (this.options.onSwitch) { this.options.onSwitch(layer); }
  };

  EventsLayer.prototype.setTypes = function (types) {
    this.state.types = types;
    this.show();
    if (this.options.onChange) { this.options.onChange(); }
  };

  EventsLayer.prototype.setDates = function (dates) {
    this.state.dates = dates;
    this.show();
    if (this.options.onChange) { this.options.onChange(); }
  };

  // The popup of one event: type, sentence with its trigger marked, date, counts, story link.
  EventsLayer.prototype.openPopup = function (marker) {
    var e = this.events[marker.mapappEvent], box = el("div", "mapapp-popup mapapp-event-popup");
    var head = el("h3", "mapapp-event-type");
    head.appendChild(eventSymbol(e.type, 16));
    head.appendChild(document.createTextNode(" " + e.label));
    box.appendChild(head);
    if (e.place) {
      box.appendChild(el("p", "mapapp-where", e.place + (e.country_code ? " (" + e.country_code + ")" : "")));
    }
    var when = e.date_start && e.date_end && e.date_start !== e.date_end
      ? e.date_start + " to " + e.date_end : (e.date || "undated");
    var date = el("p", "mapapp-event-date", "Date: " + when);
    if (e.date_text) { date.appendChild(el("span", "mapapp-date-text", " (\u201c" + e.date_text + "\u201d)")); }
    if (e.date_assumed) { date.appendChild(el("span", "mapapp-date-assumed", " \u00b7 date assumed: the publication date")); }
    box.appendChild(date);
    var counts = COUNT_LABELS.filter(function (c) { return e[c[0]] !== null && e[c[0]] !== undefined; })
      .map(function (c) { return e[c[0]].toLocaleString("en-GB") + " " + c[1]; });
    if (counts.length) { box.appendChild(el("p", "mapapp-event-counts", counts.join(", "))); }
    var quote = el("blockquote", "mapapp-evidence");
    var s = e.sentence || "", t = e.trigger || [0, 0];
    quote.appendChild(document.createTextNode(s.slice(0, t[0])));
    quote.appendChild(el("mark", null, s.slice(t[0], t[1])));
    quote.appendChild(document.createTextNode(s.slice(t[1])));
    box.appendChild(quote);
    var story = el(dom.ownPath(e.story_url) ? "a" : "span", "mapapp-headline", e.headline || "(no headline)");
    if (story.tagName === "A") { story.href = e.story_url; }
    var line = el("p", "mapapp-event-story", (e.published || "undated") + " \u00b7 ");
    line.appendChild(story);
    box.appendChild(line);
    this.popupMarker = marker;
    this.popup.setLatLng(marker.getLatLng()).setContent(box).openOn(this.map);
  };

  // The control: the layer switch, the date field the filter reads, and the legend of types.
  var Switch = L.Control.extend({
    options: {position: "topright"},
    onAdd: function () {
      var box = this.box = el("div", "mapapp-layers leaflet-bar"), layer = this.options.layer;
      var modes = el("fieldset", "mapapp-layer-switch");
      modes.appendChild(el("legend", null, "Show"));
      [["events", "Events"], ["mentions", "Every place named"]].forEach(function (item) {
        var label = el("label"), input = el("input");
        input.type = "radio";
        input.name = "mapapp-layer";
        input.value = item[0];
        input.addEventListener("change", function () { if (input.checked) { layer.switchTo(item[0]); } });
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + item[1]));
        modes.appendChild(label);
      });
      box.appendChild(modes);
      var panel = this.panel = el("div", "mapapp-event-panel");
      var dates = el("fieldset", "mapapp-event-dates");
      dates.appendChild(el("legend", null, "Dates are"));
      [["event", "when it happened"], ["published", "when published"]].forEach(function (item) {
        var label = el("label"), input = el("input");
        input.type = "radio";
        input.name = "mapapp-dates";
        input.value = item[0];
        input.addEventListener("change", function () { if (input.checked) { layer.setDates(item[0]); } });
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + item[1]));
        dates.appendChild(label);
      });
      panel.appendChild(dates);
      var legend = this.legend = el("details", "mapapp-event-legend");
      legend.open = true;
      legend.appendChild(el("summary", null, "Event types"));
      this.typeBox = el("div", "mapapp-event-types", "Loading\u2026");
      legend.appendChild(this.typeBox);
      var sizes = el("div", "mapapp-event-sizes");
      SIZES.forEach(function (step) {
        var row = el("div", "mapapp-legend-row");
        row.appendChild(eventSymbol("other", step[1]));
        row.appendChild(el("span", null, step[2]));
        sizes.appendChild(row);
      });
      legend.appendChild(sizes);
      panel.appendChild(legend);
      box.appendChild(panel);
      this.status = el("p", "mapapp-event-count", "Loading\u2026");
      this.status.setAttribute("aria-live", "polite");
      box.appendChild(this.status);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    },

    build: function (types, events) {
      var layer = this.options.layer, box = this.typeBox, present = {};
      events.forEach(function (e) { present[e.type] = true; });
      box.textContent = "";
      this.checks = {};
      var self = this;
      types.forEach(function (item) {
        var type = item[0], row = el("label", "mapapp-legend-row mapapp-event-type-row");
        row.setAttribute("data-type", type);
        if (!present[type]) { row.classList.add("mapapp-absent"); }
        var input = el("input");
        input.type = "checkbox";
        input.value = type;
        input.addEventListener("change", function () { layer.setTypes(self.chosen()); });
        self.checks[type] = input;
        row.appendChild(input);
        row.appendChild(eventSymbol(type, 16));
        row.appendChild(el("span", "mapapp-type-label", item[1]));
        row.appendChild(el("span", "mapapp-type-count", ""));
        box.appendChild(row);
      });
      this.sync();
    },

    // The types ticked; all ticked means no type filter (an empty list).
    chosen: function () {
      var checks = this.checks, all = Object.keys(checks);
      var on = all.filter(function (t) { return checks[t].checked; });
      return on.length === all.length ? [] : on;
    },

    // The inputs as the state says.
    sync: function () {
      var layer = this.options.layer, state = layer.state, shown = layer.active() ? "events" : "mentions";
      var none = layer.events !== null && !layer.available();
      this.box.querySelectorAll("input[name=mapapp-layer]").forEach(function (input) {
        input.checked = input.value === shown;
        if (input.value === "events") {
          input.disabled = none;
          input.parentNode.title = none ? "No events are stored: ingest with MAPAPP_EVENTS=1" : "";
        }
      });
      this.box.querySelectorAll("input[name=mapapp-dates]").forEach(function (input) {
        input.checked = input.value === state.dates;
      });
      this.panel.hidden = shown !== "events";
      this.box.hidden = none;  // a store without events: nothing to switch to, the mentions show
      if (shown !== "events" && !none) { this.status.textContent = ""; }
      var checks = this.checks || {};
      Object.keys(checks).forEach(function (t) {
        checks[t].checked = !state.types.length || state.types.indexOf(t) >= 0;
      });
    },

    counts: function (byType, shown, total) {
      this.box.querySelectorAll(".mapapp-event-type-row").forEach(function (row) {
        var n = byType[row.getAttribute("data-type")] || 0;
        row.querySelector(".mapapp-type-count").textContent = n ? "(" + n + ")" : "";
      });
      this.status.textContent = dom.plural(shown, "event", "events") + " on the map" +
        (shown !== total ? " (of " + total.toLocaleString("en-GB") + ")" : "");
    },

    fail: function (message) {
      this.status.textContent = message;
      this.status.classList.add("mapapp-error");
    }
  });

  window.mapapp = window.mapapp || {};
  window.mapapp.EventsLayer = EventsLayer;
  window.mapapp.eventSymbol = eventSymbol;
}());

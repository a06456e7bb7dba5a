/* mapapp: the timeline, a histogram of stories per day, week or month that
 * can be brushed to pick a date range.
 *
 * Plain SVG, no library.  Drag across the bars to pick a range (it snaps to
 * whole bars), drag inside it to move it, drag its edges to resize it; click
 * a bar to pick just that bar.  From the keyboard: arrows move the range by
 * one bar, Shift with arrows moves its end, Escape clears it.  The owner gets
 * onChange(startDay, endDay, final) with day numbers (days since 1970-01-01,
 * null for no bound); ``final`` is false while a drag is still going on.
 */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var HEIGHT = 64, AXIS = 16, EDGE = 7;
  var NO_DAY = -2147483648;

  function svg(tag, attrs, parent) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function utc(day) { return new Date(day * 86400000); }

  // Day number of a UTC date; unlike Date.UTC, years 0-99 are not read as 1900-1999.
  function dayOf(year, month, date) {
    var d = new Date(0);
    d.setUTCFullYear(year, month, date);
    return Math.round(d.getTime() / 86400000);
  }

  // A bar's date as ISO, like every date on the page: 2024-03-01, 2024-03 (a month), 2024.
  function label(day, unit) {
    var iso = utc(day).toISOString().slice(0, 10);
    return unit === "year" ? iso.slice(0, 4) : unit === "month" ? iso.slice(0, 7) : iso;
  }

  // Bars covering [first, last]: one per day up to four months, per week up to
  // three years (weeks start on Monday), per month up to twenty years, and per
  // year (or run of years, at most 200 bars) beyond: a story dated 0001 or 9999
  // must not make a million bars.
  function makeBins(first, last) {
    var span = last - first + 1, bins = [], day;
    if (span <= 122) {
      for (day = first; day <= last; day++) { bins.push({start: day, end: day}); }
      return {unit: "day", bins: bins};
    }
    if (span <= 3 * 366) {
      day = first - ((first + 3) % 7 + 7) % 7;  // back to Monday (1970-01-01 was a Thursday)
      for (; day <= last; day += 7) { bins.push({start: day, end: day + 6}); }
      return {unit: "week", bins: bins};
    }
    var d = utc(first), y = d.getUTCFullYear(), m = d.getUTCMonth(), s, e;
    var years = utc(last).getUTCFullYear() - y + 1;
    if (years > 20) {
      var step = Math.ceil(years / 200);
      for (; (s = dayOf(y, 0, 1)) <= last; y += step) {
        bins.push({start: s, end: dayOf(y + step, 0, 1) - 1});
      }
      return {unit: "year", bins: bins};
    }
    for (;;) {
      s = dayOf(y, m, 1);
      e = dayOf(y, m + 1, 1) - 1;
      if (s > last) { break; }
      bins.push({start: s, end: e});
      m++;
    }
    return {unit: "month", bins: bins};
  }

  function Timeline(container, options) {
    this.el = container;
    this.onChange = options.onChange || function () {};
    this.selection = null;  // {start, end} in days, or null for every date
    this.counts = [];
    this.drag = null;
    this.empty = options.firstDay === null || options.firstDay === undefined;
    if (!this.empty) {
      var made = makeBins(options.firstDay, options.lastDay);
      this.unit = made.unit;
      this.bins = made.bins;
      this.domainStart = this.bins[0].start;
      this.domainEnd = this.bins[this.bins.length - 1].end + 1;  // exclusive
    }
    this.svg = svg("svg", {"class": "mapapp-timeline-svg", height: HEIGHT + AXIS,
                           "aria-hidden": "true"});
    container.appendChild(this.svg);
    container.setAttribute("data-unit", this.unit || "none");
    this._listen();
    var self = this;
    if (window.ResizeObserver) {
      new ResizeObserver(function () { self.render(); }).observe(container);
    }
  }

  Timeline.prototype.width = function () {
    return Math.max(this.el.clientWidth, 100);
  };

  Timeline.prototype.x = function (day) {
    return (day - this.domainStart) / (this.domainEnd - this.domainStart) * this.width();
  };

  Timeline.prototype.dayAt = function (x) {
    var day = Math.floor(this.domainStart + x / this.width() * (this.domainEnd - this.domainStart));
    return Math.min(Math.max(day, this.domainStart), this.domainEnd - 1);
  };

  Timeline.prototype.binAt = function (day) {
    var lo = 0, hi = this.bins.length - 1;
    if (day <= this.bins[0].start) { return 0; }
    if (day >= this.bins[hi].start) { return hi; }
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (this.bins[mid].start <= day) { lo = mid; } else { hi = mid - 1; }
    }
    return lo;
  };

  // Stories per bar: ``days`` holds each story's day, ``keep`` which ones count.
  Timeline.prototype.setCounts = function (days, keep) {
    if (this.empty) { return; }
    var counts = new Int32Array(this.bins.length);
    for (var i = 0; i < days.length; i++) {
      if (keep[i] && days[i] !== NO_DAY) { counts[this.binAt(days[i])]++; }
    }
    this.counts = counts;
    this.render();
  };

  Timeline.prototype.setSelection = function (start, end) {
    this.selection = start === null && end === null ? null
      : {start: start === null ? this.domainStart : start,
         end: end === null ? this.domainEnd - 1 : end};
    this.render();
  };

  Timeline.prototype.render = function () {
    var root = this.svg, width = this.width();
    while (root.firstChild) { root.removeChild(root.firstChild); }
    root.setAttribute("width", width);
    root.setAttribute("viewBox", "0 0 " + width + " " + (HEIGHT + AXIS));
    if (this.empty) {
      var none = svg("text", {x: 8, y: HEIGHT / 2, "class": "mapapp-axis"}, root);
      none.textContent = "No dated stories";
      return;
    }
    var max = 1, i, sel = this.selection, bars = svg("g", {"class": "mapapp-bars"}, root);
    for (i = 0; i < this.counts.length; i++) { max = Math.max(max, this.counts[i]); }
    for (i = 0; i < this.bins.length; i++) {
      var bin = this.bins[i], x0 = this.x(bin.start), x1 = this.x(bin.end + 1);
      var h = this.counts[i] ? Math.max(2, this.counts[i] / max * (HEIGHT - 6)) : 0;
      var inside = !sel || (bin.end >= sel.start && bin.start <= sel.end);
      var bar = svg("rect", {x: x0, y: HEIGHT - h, width: Math.max(1, x1 - x0 - (x1 - x0 > 3 ? 1 : 0)),
                             height: h, "class": inside ? "mapapp-bar" : "mapapp-bar mapapp-out"}, bars);
      svg("title", {}, bar).textContent = label(bin.start, this.unit) +
        (this.unit === "day" ? "" : " \u2013 " + label(bin.end, this.unit)) + ": " +
        (this.counts[i] || 0) + (this.counts[i] === 1 ? " story" : " stories");
    }
    svg("line", {x1: 0, x2: width, y1: HEIGHT + 0.5, y2: HEIGHT + 0.5, "class": "mapapp-baseline"}, root);
    this._axis(root, width);
    if (sel) {
      var bx0 = this.x(sel.start), bx1 = this.x(sel.end + 1);
      svg("rect", {x: bx0, y: 0, width: Math.max(2, bx1 - bx0), height: HEIGHT,
                   "class": "mapapp-brush"}, root);
      svg("rect", {x: bx0 - 2, y: 0, width: 4, height: HEIGHT, "class": "mapapp-handle"}, root);
      svg("rect", {x: bx1 - 2, y: 0, width: 4, height: HEIGHT, "class": "mapapp-handle"}, root);
    }
  };

  Timeline.prototype._axis = function (root, width) {
    var count = Math.max(2, Math.floor(width / 110)), last = -Infinity;
    for (var k = 0; k < count; k++) {
      var bin = this.bins[Math.round(k * (this.bins.length - 1) / (count - 1))];
      var x = this.x(bin.start);
      if (x - last < 90) { continue; }
      last = x;
      var anchor = k === 0 ? "start" : k === count - 1 ? "end" : "middle";
      var text = svg("text", {x: k === count - 1 ? width - 2 : x, y: HEIGHT + AXIS - 3,
                              "text-anchor": anchor, "class": "mapapp-axis"}, root);
      text.textContent = label(k === count - 1 ? this.bins[this.bins.length - 1].start : bin.start,
                               this.unit);
    }
  };

  Timeline.prototype._emit = function (final) {
    var sel = this.selection;
    this.onChange(sel ? sel.start : null, sel ? sel.end : null, final);
  };

  Timeline.prototype._select = function (i0, i1) {
    var lo = Math.max(0, Math.min(i0, i1)), hi = Math.min(this.bins.length - 1, Math.max(i0, i1));
    this.selection = {start: this.bins[lo].start, end: this.bins[hi].end};
    this.render();
  };

  Timeline.prototype._local = function (event) {
    return event.clientX - this.svg.getBoundingClientRect().left;
  };

  Timeline.prototype._listen = function () {
    var self = this, root = this.svg, frame = null;
    function later() {
      if (frame === null) {
        frame = window.requestAnimationFrame(function () { frame = null; self._emit(false); });
      }
    }
    root.addEventListener("pointerdown", function (event) {
      if (self.empty || event.button !== 0) { return; }
      var x = self._local(event), sel = self.selection, mode = "new";
      if (sel) {
        var bx0 = self.x(sel.start), bx1 = self.x(sel.end + 1);
        if (Math.abs(x - bx0) <= EDGE) { mode = "start"; }
        else if (Math.abs(x - bx1) <= EDGE) { mode = "end"; }
        else if (x > bx0 && x < bx1) { mode = "move"; }
      }
      self.drag = {mode: mode, x0: x, moved: false, bin0: self.binAt(self.dayAt(x)),
                   from: sel ? self.binAt(sel.start) : null, to: sel ? self.binAt(sel.end) : null};
      root.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    root.addEventListener("pointermove", function (event) {
      var drag = self.drag;
      if (!drag) { return; }
      var x = self._local(event), bin = self.binAt(self.dayAt(x));
      if (!drag.moved && Math.abs(x - drag.x0) < 3) { return; }
      drag.moved = true;
      if (drag.mode === "new") { self._select(drag.bin0, bin); }
      else if (drag.mode === "start") { self._select(Math.min(bin, drag.to), drag.to); }
      else if (drag.mode === "end") { self._select(drag.from, Math.max(bin, drag.from)); }
      else {
        var shift = bin - drag.bin0, n = self.bins.length - 1;
        shift = Math.max(-drag.from, Math.min(n - drag.to, shift));
        self._select(drag.from + shift, drag.to + shift);
      }
      later();
    });
    function finish(event) {
      var drag = self.drag;
      if (!drag) { return; }
      self.drag = null;
      if (!drag.moved) {
        if (drag.mode === "move" || drag.mode === "start" || drag.mode === "end") { return; }
        var bin = self.binAt(self.dayAt(self._local(event)));
        self._select(bin, bin);
      }
      self._emit(true);
    }
    root.addEventListener("pointerup", finish);
    root.addEventListener("pointercancel", function () { self.drag = null; self._emit(true); });
    this.el.addEventListener("keydown", function (event) {
      if (self.empty) { return; }
      var n = self.bins.length - 1, sel = self.selection;
      var from = sel ? self.binAt(sel.start) : 0, to = sel ? self.binAt(sel.end) : n;
      var step = {ArrowLeft: -1, ArrowRight: 1}[event.key];
      if (event.key === "Escape" && sel) {
        self.selection = null;
        self.render();
        self._emit(true);
      } else if (step) {
        if (!sel) { from = to = step < 0 ? n : 0; }
        else if (event.shiftKey) { to = Math.max(from, Math.min(n, to + step)); }
        else {
          step = Math.max(-from, Math.min(n - to, step));
          from += step;
          to += step;
        }
        self._select(from, to);
        self._emit(true);
      } else {
        return;
      }
      event.preventDefault();
    });
  };

  window.mapapp = window.mapapp || {};
  window.mapapp.Timeline = Timeline;
  window.mapapp.timelineBins = makeBins;
}());

/* mapapp: the filter controls of the main map (mapapp.Controls).
 *
 * new Controls(document, {onFilters, onPreset, onFit}) finds the filter
 * form's fields (made once the page is parsed) and reports what the reader
 * does: onFilters(values) with the filters as the fields stand (only keys
 * whose field is on the page), onPreset(name) for a date preset button,
 * onFit() for the "fit" button.  Its owner keeps the state and tells it what
 * to show: show, showDates, showCounts, setStatus, fail, clearError, and report
 * for the form's data-* attributes the tests and benchmarks wait on.
 */
(function () {
  "use strict";

  var dom = window.mapapp.dom;

  function all(root, selector) {
    return root ? Array.prototype.slice.call(root.querySelectorAll(selector)) : [];
  }

  function Controls(doc, handlers) {
    var form = doc.querySelector("form.mapapp-filters");
    function field(name) {
      return doc.querySelector("[name='" + name + "'][form='filters']:not([type=hidden])") ||
             (form && form.querySelector("[name='" + name + "']:not([type=hidden])"));
    }
    this.form = form;
    this.ui = {
      start: field("start"), end: field("end"), undated: field("undated"),
      q: field("q"), country: field("country"), minScore: field("min_score"),
      areas: field("areas"), roles: all(form, "input[type=checkbox][name=role]"),
      scoreValue: doc.querySelector(".mapapp-score-value"),
      count: doc.querySelector(".mapapp-count"),
      error: doc.querySelector(".mapapp-error"),
      fit: doc.querySelector(".mapapp-fit"),
      presets: all(doc, "[data-preset]"),
      undatedCount: doc.querySelector(".mapapp-undated-count"),
      range: doc.querySelector(".mapapp-range")
    };
    if (form) { this._bind(handlers); }
  }

  Controls.prototype._bind = function (handlers) {
    var ui = this.ui, self = this;
    function changed() { handlers.onFilters(self.values()); }
    var later = dom.debounce(changed, 120);
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      changed();
    });
    if (ui.q) { ui.q.addEventListener("input", later); }
    [ui.country, ui.undated, ui.areas, ui.start, ui.end].concat(ui.roles).forEach(function (input) {
      if (input) { input.addEventListener("change", changed); }
    });
    if (ui.minScore) {
      ui.minScore.addEventListener("input", function () {
        if (ui.scoreValue) { ui.scoreValue.textContent = (+ui.minScore.value).toFixed(2); }
        later();
      });
    }
    ui.presets.forEach(function (button) {
      button.addEventListener("click", function () {
        handlers.onPreset(button.getAttribute("data-preset"));
      });
    });
    if (ui.fit) { ui.fit.addEventListener("click", function () { handlers.onFit(); }); }
  };

  // The filters as the fields stand: {start, end, undated, q, country, roles, minScore, areas}.
  Controls.prototype.values = function () {
    var ui = this.ui, values = {};
    if (ui.start) { values.start = ui.start.value.trim(); }
    if (ui.end) { values.end = ui.end.value.trim(); }
    if (ui.undated) { values.undated = ui.undated.checked; }
    if (ui.q) { values.q = ui.q.value.trim(); }
    if (ui.country) { values.country = ui.country.value; }
    if (ui.roles.length) {
      values.roles = ui.roles.filter(function (r) { return r.checked; })
        .map(function (r) { return r.value; });
    }
    if (ui.minScore) { values.minScore = +ui.minScore.value || 0; }
    if (ui.areas) { values.areas = ui.areas.checked; }
    return values;
  };

  // Every field shows ``state`` (as PlacesLayer keeps it), e.g. after the filters were cleared.
  Controls.prototype.show = function (state) {
    var ui = this.ui;
    this.showDates(state.start, state.end);
    if (ui.undated) { ui.undated.checked = !!state.undated; }
    if (ui.q) { ui.q.value = state.q; }
    if (ui.country) { ui.country.value = state.country; }
    ui.roles.forEach(function (r) { r.checked = state.roles.indexOf(r.value) >= 0; });
    if (ui.minScore) { ui.minScore.value = String(state.minScore); }
    if (ui.scoreValue) { ui.scoreValue.textContent = (+state.minScore).toFixed(2); }
    if (ui.areas) { ui.areas.checked = !!state.areas; }
  };

  // The date fields show ``start`` and ``end`` (ISO days or "").
  Controls.prototype.showDates = function (start, end) {
    if (this.ui.start) { this.ui.start.value = start; }
    if (this.ui.end) { this.ui.end.value = end; }
  };

  // The totals of a MapData filter result, and the date range of ``state`` in words.
  Controls.prototype.showCounts = function (result, state) {
    var ui = this.ui, plural = dom.plural;
    if (ui.count) {
      ui.count.textContent = plural(result.places, "place", "places") + " in " +
        plural(result.stories, "story", "stories") + " (" +
        plural(result.mentions, "mention", "mentions") + ")";
    }
    this.report("places", result.places);
    this.report("stories", result.stories);
    this.report("mentions", result.mentions);
    if (ui.undatedCount) { ui.undatedCount.textContent = "(" + result.undatedStories + ")"; }
    if (ui.range) {
      ui.range.textContent = (state.start || state.end
        ? (state.start || "\u2026") + " to " + (state.end || "\u2026") : "All dates") +
        (state.undated ? ", with undated stories" : "");
    }
  };

  // The form's data-NAME attribute set to ``value``.
  Controls.prototype.report = function (name, value) {
    if (this.form) { this.form.setAttribute("data-" + name, value); }
  };

  // "loading", "ready" or "error", as the form's data-state.
  Controls.prototype.setStatus = function (status) {
    this.report("state", status);
  };

  // Show ``message`` as the page's error and put the form in the error state.
  Controls.prototype.fail = function (message) {
    if (this.ui.error) {
      this.ui.error.textContent = message;
      this.ui.error.hidden = false;
    }
    this.setStatus("error");
  };

  Controls.prototype.clearError = function () {
    if (this.ui.error) { this.ui.error.hidden = true; }
  };

  window.mapapp = window.mapapp || {};
  window.mapapp.Controls = Controls;
}());

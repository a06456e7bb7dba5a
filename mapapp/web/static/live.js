/* mapapp: the live map (mapapp.Live): an open map learns of new stories and offers to show them.
 *
 * Every data-poll seconds the page asks data-url (GET /api/version: the
 * store's version token and its number of stories).  Once the version is no
 * longer the one the map's points were loaded at, a button over the map says
 * "N new stories — show" ("The stories have changed — show" when none were
 * added, e.g. after a reprocess); pressing it loads the points again and hands
 * them to mapapp.layer.reload, which keeps the map's view, the filters and the
 * address bar.  The button sits in a polite live region, so a screen reader
 * hears of new stories without losing its place.  No polling while the page
 * is hidden; a failed poll is simply tried again at the next one.
 * The box reports data-state: "idle", "new" (the button is up) or "loading".
 */
(function () {
  "use strict";

  var mapapp = window.mapapp, dom = mapapp.dom;

  function fetchJson(url) {
    return fetch(url, {credentials: "same-origin", cache: "no-store",
                       headers: {Accept: "application/json"}})
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error((body && body.error) || "HTTP " + response.status); }
          return body;
        });
      });
  }

  // The country menu lists the countries of ``data`` with their mentions, keeping the choice.
  function listCountries(select, data) {
    if (!select) { return; }
    var counts = {}, p, i;
    for (i = 0; i < data.mentionCount; i++) {
      p = data.mention.place[i];
      var code = data.place.countryUpper[p];
      if (code) { counts[code] = (counts[code] || 0) + 1; }
    }
    var chosen = select.value, names = {};
    Array.prototype.forEach.call(select.options, function (o) {
      if (o.value) { names[o.value] = o.textContent.replace(/ \(\d+\)$/, ""); }
    });
    var codes = Object.keys(counts).map(function (c) {
      return {code: c, name: names[c] || data.countryNames[c] || c};
    }).sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; });
    while (select.options.length > 1) { select.remove(1); }
    codes.forEach(function (c) {
      var option = dom.el("option", null, c.name + " (" + counts[c.code] + ")");
      option.value = c.code;
      select.appendChild(option);
    });
    select.value = chosen;
  }

  function Live(box, layer) {
    var self = this;
    this.box = box;
    this.layer = layer;
    this.url = box.getAttribute("data-url");
    this.every = Math.max(0, +box.getAttribute("data-poll") || 0) * 1000;
    this.pageVersion = box.getAttribute("data-version");
    this.pageStories = +box.getAttribute("data-stories") || 0;
    this.baseline = null;  // stories in the store at the version the map shows
    this.latest = null;    // the last answer of the poll
    this.timer = null;
    this.button = box.querySelector("button");
    this.button.addEventListener("click", function () { self.show(); });
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) { self.poll(); }
    });
    this._state("idle");
    this._later();
  }

  Live.prototype._state = function (state) { this.box.setAttribute("data-state", state); };

  Live.prototype._later = function () {
    var self = this;
    window.clearTimeout(this.timer);
    if (this.every) { this.timer = window.setTimeout(function () { self.poll(); }, this.every); }
  };

  // Ask the server for its version now (then again every data-poll seconds).
  Live.prototype.poll = function () {
    var self = this;
    this._later();
    if (document.hidden || !this.layer.data || this.box.getAttribute("data-state") === "loading") {
      return Promise.resolve();
    }
    return fetchJson(this.url).then(function (body) { self._seen(body); }, function () {});
  };

  Live.prototype._seen = function (body) {
    var shown = this.layer.data.version;
    this.latest = body;
    if (body.version === shown) {
      this.baseline = body.stories;
      this.button.hidden = true;
      this._state("idle");
      return;
    }
    var base = this.baseline !== null ? this.baseline
      : this.pageVersion === shown ? this.pageStories : null;
    var added = base === null ? 0 : body.stories - base;
    this.button.textContent = added > 0
      ? dom.plural(added, "new story", "new stories") + " \u2014 show"
      : "The stories have changed \u2014 show";
    this.button.hidden = false;
    this._state("new");
  };

  // Load the newer points and draw them in the view as it stands.
  Live.prototype.show = function () {
    var self = this, layer = this.layer;
    this._state("loading");
    this.button.disabled = true;
    this.button.textContent = "Loading the new stories\u2026";
    fetchJson(layer.options.url)
      .then(function (payload) {
        var data = new mapapp.MapData(payload);
        layer.reload(data);
        listCountries(layer.controls && layer.controls.ui.country, data);
        self.baseline = self.latest && self.latest.version === data.version
          ? self.latest.stories : null;
        self.button.hidden = true;
        self._state("idle");
      })
      .catch(function (err) {
        self.button.textContent = "The new stories could not be loaded (" + err.message +
          ") \u2014 try again";
        self._state("new");
      })
      .then(function () {
        self.button.disabled = false;
        if (self.box.getAttribute("data-state") === "idle") { self.poll(); }
      });
  };

  function start() {
    var box = document.querySelector(".mapapp-live[data-url]");
    if (box && mapapp.layer) { mapapp.live = new Live(box, mapapp.layer); }
  }

  mapapp.Live = Live;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());

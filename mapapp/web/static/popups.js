/* mapapp: the main map's one shared popup, with the evidence (mapapp.Popups).
 *
 * A marker's popup names its place and lists the stories that mention it as
 * the filters stand, each with the sentence it was found in: fetched on
 * demand from /api/evidence, once per mention, the place name marked.
 * new Popups(map, {evidenceUrl, storyUrl, correct}), where storyUrl(s) is story s's
 * page and correct(m, s), when given, a "Wrong place?" button for mention m (or null); open(marker, mapData, result) fills and opens the popup at a marker
 * (marker.mapappPlace is its place), closeIfHidden(result) closes it when a
 * new filter result no longer shows its place.  The popup's box has
 * data-evidence "ready" (or "error") once its sentences are in.
 *
 * For the keyboard: open(marker, data, result, true) puts the focus on the
 * popup's heading; Escape closes the popup, and when it closes with the focus
 * in it (or on its marker) the focus goes back to the marker.
 */
(function () {
  "use strict";

  var dom = window.mapapp.dom, el = dom.el, plural = dom.plural;
  var POPUP_STORIES = 20;   // stories listed in a popup (the rest are counted)
  var ROLE_LABELS = {dateline: "dateline", focus: "focus", mention: "mention"};

  function Popups(map, options) {
    this.map = map;
    this.options = options;
    this.popup = L.popup({maxWidth: 380, minWidth: 240, autoPanPadding: [30, 30],
                          offset: [0, -4]});
    this.place = null;          // the place the popup was last opened for
    this.marker = null;         // ... and its marker
    this.evidence = new Map();  // mention -> {m, before, match, after}
    var self = this;
    map.on("popupclose", function (event) { if (event.popup === self.popup) { self._closed(); } });
    L.DomEvent.on(map.getContainer(), "keydown", function (event) {
      if (event.key === "Escape" && self.popup.isOpen()) {
        L.DomEvent.stop(event);
        map.closePopup(self.popup);
      }
    });
  }

  // The popup at ``marker``, filled for its place as ``result`` shows it (focused from the keyboard).
  Popups.prototype.open = function (marker, data, result, byKeyboard) {
    var box = this._content(marker.mapappPlace, data, result);
    this.popup.setLatLng(marker.getLatLng()).setContent(box).openOn(this.map);
    this.place = marker.mapappPlace;
    this.marker = marker;
    if (byKeyboard) { box.querySelector("h3").focus({preventScroll: true}); }
  };

  // Back to the marker, when the focus was in the closing popup (or had nowhere else to be).
  Popups.prototype._closed = function () {
    var marker = this.marker, active = document.activeElement, box = this.popup.getElement();
    if (!marker || !marker._icon) { return; }
    if (!active || active === document.body || active === marker._icon ||
        (box && box.contains(active))) {
      marker._icon.focus({preventScroll: true});
    }
  };

  // Close the popup and forget the sentences (the points were reloaded: mention rows changed).
  Popups.prototype.reset = function () {
    this.marker = null;
    if (this.popup.isOpen()) { this.map.closePopup(this.popup); }
    this.evidence = new Map();
    this.place = null;
  };

  Popups.prototype.closeIfHidden = function (result) {
    if (this.popup.isOpen() && !result.placeShown[this.place]) { this.map.closePopup(this.popup); }
  };

  Popups.prototype._content = function (p, data, result) {
    var place = data.place, box = el("div", "mapapp-popup");
    var stories = data.storiesAt(result, p), best = result.placeBest[p];
    var heading = box.appendChild(el("h3", null, place.name[p]));
    heading.tabIndex = -1;
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
      (best >= 0 ? dom.score(best) : "n/a")));
    if (best >= 0 && best < data.lowScore) {
      box.appendChild(el("p", "mapapp-low", "Low confidence: the resolver was not sure this is the right place."));
    }
    var list = el("ul", "mapapp-stories"), wanted = [], storyUrl = this.options.storyUrl, self = this;
    stories.slice(0, POPUP_STORIES).forEach(function (entry) {
      var s = entry.story, m = data.bestMention(entry.mentions), item = el("li");
      item.appendChild(el("span", "mapapp-date", data.story.published[s] || "undated"));
      item.appendChild(document.createTextNode(" "));
      var url = storyUrl(s), link = el(dom.ownPath(url) ? "a" : "span", "mapapp-headline",
                                       data.story.headline[s] || "(no headline)");
      if (link.tagName === "A") { link.href = url; }
      item.appendChild(link);
      var roles = [];
      entry.mentions.forEach(function (k) {
        var r = data.roles[data.mention.role[k]];
        if (roles.indexOf(r) < 0) { roles.push(ROLE_LABELS[r] || r); }
      });
      item.appendChild(el("span", "mapapp-meta", " " + roles.join(", ") + " \u00b7 score " +
                          dom.score(data.mention.score[m])));
      var wrong = self.options.correct ? self.options.correct(m, s) : null;
      if (wrong) { item.appendChild(document.createTextNode(" ")); item.appendChild(wrong); }
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
    this._evidence(wanted, box, data.version);
    return box;
  };

  // Fill each blockquote with its sentence, the place name marked (fetched once per mention).
  Popups.prototype._evidence = function (rows, box, version) {
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
      if (self.popup.isOpen() && self.popup.getContent() === box) {
        var focused = box.contains(document.activeElement) ? document.activeElement : null;
        self.popup.update();  // re-inserts the box, which drops the focus: put it back
        if (focused) { focused.focus({preventScroll: true}); }
      }
    }
    if (!missing.length) { window.setTimeout(fill, 0); return; }
    var url = this.options.evidenceUrl + "?" + new URLSearchParams(
      {v: version, m: missing.join(",")}).toString();
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

  window.mapapp = window.mapapp || {};
  window.mapapp.Popups = Popups;
}());

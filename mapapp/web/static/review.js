/* mapapp: the review queue from the keyboard (/review) and the undo of the log (/review/log).
 *
 * /review lists the mentions that most need a human eye as items
 * ``.review-item[data-mention-id]`` inside ``.review-queue``: one item is a
 * name at one place, standing for the mentions in data-mention-ids (a
 * decision is sent for each, undone together); data-published and
 * data-country serve the filters, data-name and data-headline the messages.  Keys, when no field or dialog has the
 * focus: j / k next / previous item, 1-9 put the current mention at that
 * candidate (the candidates the resolver weighed, fetched for the current item
 * and shown numbered), x not a place, a accept as is, u undo the last decision,
 * Enter opens the full "Wrong place?" dialog (search, scope).  A decided item
 * leaves the queue; ``.review-remaining`` (aria-live) says how many are left
 * in view.  The filters (from, to, country) hide the items outside them at
 * once and keep the address bar in step, like the map's.
 *
 * /review/log: each row ``[data-correction-id]`` gets an Undo button
 * (DELETE /api/corrections/<id>).  Text from the data goes in through
 * textContent only.
 */
(function () {
  "use strict";

  var dom = window.mapapp.dom, el = dom.el, corrections = window.mapapp.corrections;
  var KEYS = "123456789";

  function typing(target) {
    return target && target.closest &&
      target.closest("input, select, textarea, button[aria-haspopup=listbox], [contenteditable]");
  }

  // -- /review ----------------------------------------------------------------

  function Review(queue) {
    var self = this;
    this.queue = queue;
    this.items = Array.prototype.slice.call(queue.querySelectorAll(".review-item[data-mention-id]"));
    this.current = null;
    this.undoStack = [];          // [{id, item}], newest last
    this.candidates = new Map();  // mention id -> promise of [candidate]
    this.counter = document.querySelector(".review-remaining");
    this.status = document.querySelector(".review-status");
    this.filters = document.querySelector(".review-filters");
    this.items.forEach(function (item) {
      item.tabIndex = -1;
      item.addEventListener("focus", function () { self.select(item, false); });
      item.addEventListener("click", function (e) {
        if (!e.target.closest("button, a")) { self.select(item, true); }
      });
    });
    if (this.filters) { this.wireFilters(); }
    document.addEventListener("keydown", function (e) { self.key(e); });
    this.applyFilters();
    var first = this.open()[0];
    if (first) { this.select(first, false); }
    queue.setAttribute("data-state", "ready");
  }

  // The items still in the queue and inside the filters, in order.
  Review.prototype.open = function () {
    return this.items.filter(function (item) { return !item.hidden && !item.classList.contains("done"); });
  };

  Review.prototype.count = function () {
    var left = this.open().length;
    if (this.counter) {
      this.counter.textContent = left === 0 ? "Nothing left to review in this view."
        : dom.plural(left, "item", "items") + " left to review";
      this.counter.setAttribute("data-left", left);
    }
    return left;
  };

  Review.prototype.say = function (text) { if (this.status) { this.status.textContent = text; } };

  Review.prototype.key = function (e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) { return; }
    if (document.querySelector(".mapapp-dialog")) { return; }
    var key = e.key, item = this.current;
    if (key === "j" || key === "k") {
      e.preventDefault();
      this.move(key === "j" ? 1 : -1);
    } else if (key === "u") {
      e.preventDefault();
      this.undo();
    } else if (!item || item.classList.contains("done") || item.hidden) {
      return;
    } else if (KEYS.indexOf(key) >= 0) {
      e.preventDefault();
      this.pickNumber(item, KEYS.indexOf(key));
    } else if (key === "x") {
      e.preventDefault();
      this.decide(item, "not_a_place", null, "not a place");
    } else if (key === "a") {
      e.preventDefault();
      this.decide(item, "accept", null, "accepted as it is");
    } else if (key === "Enter" && e.target === item) {
      e.preventDefault();
      this.dialog(item);
    }
  };

  // The next (step 1) or previous (-1) open item.
  Review.prototype.move = function (step) {
    var open = this.open(), at = open.indexOf(this.current);
    if (!open.length) { return; }
    if (at < 0) {  // the current one was decided or filtered out: the nearest after it
      var index = this.items.indexOf(this.current);
      var after = open.filter(function (i) { return this.items.indexOf(i) > index; }, this);
      at = after.length ? open.indexOf(after[0]) - (step > 0 ? 1 : 0) : open.length - (step > 0 ? 1 : 0);
    }
    var next = open[Math.max(0, Math.min(open.length - 1, at + step))];
    this.select(next, true);
  };

  Review.prototype.select = function (item, focus) {
    if (this.current && this.current !== item) {
      this.current.classList.remove("current");
      this.current.removeAttribute("aria-current");
    }
    this.current = item;
    item.classList.add("current");
    item.setAttribute("aria-current", "true");
    if (focus && document.activeElement !== item) {
      item.focus({preventScroll: true});
      item.scrollIntoView({block: "nearest"});
    }
    this.showCandidates(item);
    var next = this.open()[this.open().indexOf(item) + 1];
    if (next) { this.fetchCandidates(next); }  // ready before the reviewer gets there
  };

  Review.prototype.fetchCandidates = function (item) {
    var id = item.getAttribute("data-mention-id");
    if (!this.candidates.has(id)) {
      this.candidates.set(id, corrections.request("GET", "/api/mentions/" +
        encodeURIComponent(id) + "/candidates").then(function (body) {
        var list = Array.isArray(body) ? body : (body && body.candidates) || [];
        return list.map(corrections.uniform);
      }));
    }
    return this.candidates.get(id);
  };

  // The current item's candidates as numbered buttons (1-9), made once.
  Review.prototype.showCandidates = function (item) {
    var self = this, box = item.querySelector(".review-candidates");
    if (!box) { box = item.appendChild(el("div", "review-candidates")); }
    if (box.getAttribute("data-state")) { return; }
    box.setAttribute("data-state", "loading");
    this.fetchCandidates(item).then(function (list) {
      box.textContent = "";
      if (!list.length) {
        box.appendChild(el("p", "review-why", "No other candidate was weighed: x, a or Enter to search."));
      }
      var ol = box.appendChild(el("ol", "mapapp-candidates"));
      ol.setAttribute("aria-label", "Candidates: press 1 to 9 to pick one");
      var current = +item.getAttribute("data-geonameid") || null;
      list.slice(0, 9).forEach(function (c, i) {
        var button = ol.appendChild(el("li")).appendChild(
          corrections.candidateButton(c, i + 1, current !== null && c.geonameid === current));
        button.setAttribute("data-key", i + 1);
        button.addEventListener("click", function () { self.pickNumber(item, i); });
      });
      box.setAttribute("data-state", "ready");
    }).catch(function (err) {
      box.textContent = "The candidates could not be loaded: " + err.message;
      box.setAttribute("data-state", "error");
    });
  };

  Review.prototype.pickNumber = function (item, index) {
    var self = this;
    this.fetchCandidates(item).then(function (list) {
      var c = list[index];
      if (!c) { self.say("There is no candidate " + (index + 1) + " for this one."); return; }
      self.decide(item, "place", c, "placed at " + c.name);
    });
  };

  // The mentions an item stands for (data-mention-ids, space-separated), its own first.
  function mentionsOf(item) {
    var own = item.getAttribute("data-mention-id");
    var all = (item.getAttribute("data-mention-ids") || "").split(/\s+/).filter(Boolean);
    return [own].concat(all.filter(function (m) { return m !== own; }));
  }

  // Send one decision for each of the item's mentions, in turn; then it leaves the queue.
  Review.prototype.decide = function (item, action, place, words) {
    var self = this, made = [];
    if (item.getAttribute("data-busy")) { return; }
    item.setAttribute("data-busy", "1");
    mentionsOf(item).reduce(function (chain, id) {
      return chain.then(function () {
        return corrections.send(id, action, place ? place.geonameid : null, "mention")
          .then(function (answer) { made.push(answer.id); });
      });
    }, Promise.resolve())
      .then(function () {
        item.removeAttribute("data-busy");
        self.undoStack.push({ids: made, item: item});
        self.done(item, words);
      })
      .catch(function (err) {
        item.removeAttribute("data-busy");
        if (made.length) { self.undoStack.push({ids: made, item: item}); }
        self.say("Not saved: " + err.message + (made.length ? " (u undoes the part saved)" : ""));
      });
  };

  Review.prototype.done = function (item, words) {
    item.classList.add("done");
    item.setAttribute("data-decision", words);
    var note = item.querySelector(".review-done") || item.appendChild(el("p", "review-done"));
    note.textContent = "Done: " + words + " (u to undo)";
    var left = this.count();
    this.say("\u201c" + (item.getAttribute("data-name") || "") + "\u201d " + words + ". " +
             (left ? dom.plural(left, "item", "items") + " left." : "Queue cleared."));
    if (left) { this.move(1); } else { this.current = item; }
  };

  Review.prototype.undo = function () {
    var self = this, last = this.undoStack.pop();
    if (!last) { this.say("Nothing to undo."); return; }
    last.ids.reduce(function (chain, id) {
      return chain.then(function () { return corrections.undo(id); });
    }, Promise.resolve()).then(function () {
      last.item.classList.remove("done");
      last.item.removeAttribute("data-decision");
      var note = last.item.querySelector(".review-done");
      if (note) { note.parentNode.removeChild(note); }
      self.count();
      self.select(last.item, true);
      self.say("Undone: \u201c" + (last.item.getAttribute("data-name") || "") + "\u201d is back in the queue.");
    }).catch(function (err) {
      self.undoStack.push(last);
      self.say("Not undone: " + err.message);
    });
  };

  // Enter: the full dialog (search the gazetteer, choose the scope).
  Review.prototype.dialog = function (item) {
    var self = this, decided = null;
    corrections.open({
      mentionId: item.getAttribute("data-mention-id"), written: item.getAttribute("data-name"),
      opener: item, context: item.getAttribute("data-headline") || "",
      onChange: function (change) { decided = change; },
      onClose: function () {
        if (!decided) { return; }
        if (decided.action === "undo") { return; }
        self.undoStack.push({ids: [decided.correction.id], item: item});
        self.done(item, decided.action === "place" ? "placed at " + decided.place.name : "not a place");
      }
    });
  };

  // -- filters ------------------------------------------------------------------

  Review.prototype.wireFilters = function () {
    var self = this, form = this.filters;
    form.addEventListener("submit", function (e) { e.preventDefault(); self.applyFilters(true); });
    form.addEventListener("change", function () { self.applyFilters(true); });
  };

  Review.prototype.values = function () {
    var form = this.filters, get = function (name) {
      var field = form && form.querySelector("[name=" + name + "]");
      return field ? field.value : "";
    };
    return {start: get("start"), end: get("end"), country: get("country").toUpperCase()};
  };

  Review.prototype.applyFilters = function (save) {
    var v = this.values(), shown = 0;
    this.items.forEach(function (item) {
      var day = item.getAttribute("data-published") || "";
      var country = (item.getAttribute("data-country") || "").toUpperCase();
      var inside = (!v.start || (day && day >= v.start)) && (!v.end || (day && day <= v.end)) &&
                   (!v.country || country === v.country);
      item.hidden = !inside;
      if (inside) { shown++; }
    });
    if (save && window.history && history.replaceState) {
      var params = new URLSearchParams(window.location.search);
      ["start", "end", "country"].forEach(function (k) {
        if (v[k]) { params.set(k, k === "country" ? v[k] : v[k]); } else { params.delete(k); }
      });
      var query = params.toString();
      history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
    }
    this.count();
    if (this.current && this.current.hidden) { this.move(1); }
    return shown;
  };

  // -- /review/log ----------------------------------------------------------------

  function wireLog(log) {
    log.querySelectorAll("[data-correction-id]").forEach(function (row) {
      if (row.getAttribute("data-undone")) { return; }
      var cell = row.querySelector(".review-log-undo") || row.appendChild(el("td", "review-log-undo"));
      var button = cell.querySelector("button") || cell.appendChild(el("button", "review-undo", "Undo"));
      button.type = "button";
      button.setAttribute("aria-label", "Undo correction " + row.getAttribute("data-correction-id"));
      button.addEventListener("click", function () {
        button.disabled = true;
        corrections.undo(row.getAttribute("data-correction-id")).then(function () {
          row.classList.add("undone");
          row.setAttribute("data-undone", "1");
          button.textContent = "Undone";
        }).catch(function (err) {
          button.disabled = false;
          var said = cell.querySelector(".review-log-error") || cell.appendChild(el("span", "review-log-error"));
          said.textContent = " " + err.message;
        });
      });
    });
  }

  function start() {
    var queue = document.querySelector(".review-queue");
    if (queue) { window.mapapp.review = new Review(queue); }
    var log = document.querySelector(".review-log");
    if (log) { wireLog(log); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());

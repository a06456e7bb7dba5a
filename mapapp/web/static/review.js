/* mapapp: the review queue from the keyboard (/review) and the undo of the log (/review/log).
 *
 * /review (templates/review.html) lists what most needs a human eye as
 * ``.review-item[data-mention-id]`` in ``.review-queue``: one item is a name
 * at one place, standing for the mentions in data-mention-ids (a decision is
 * sent for each, and undone together).  Each item has its candidates as
 * ``button.review-pick[data-geonameid]``, then ``.review-not-a-place`` and
 * ``.review-accept``.  Keys, when no field or dialog has the focus: j / k
 * next / previous item, 1-9 that candidate, x not a place, a accept as is,
 * u undo the last decision, Enter the full "Wrong place?" dialog (search,
 * scope).  A decided item leaves the queue and the focus moves on;
 * ``.review-count`` (aria-live) says how many are left.  The filters are the
 * page's own GET form (dates, country), as on the map.
 *
 * /review/log: ``button.review-undo[data-undo]`` on each row undoes it
 * (DELETE /api/corrections/<id>).  Text goes in through textContent only.
 */
(function () {
  "use strict";

  var dom = window.mapapp.dom, el = dom.el, corrections = window.mapapp.corrections;
  var KEYS = "123456789";

  function typing(target) {
    return target && target.closest && target.closest("input, select, textarea, [contenteditable]");
  }

  function text(node) { return node ? node.textContent.trim() : ""; }

  // The mentions an item stands for (data-mention-ids, space-separated), its own first.
  function mentionsOf(item) {
    var own = item.getAttribute("data-mention-id");
    var all = (item.getAttribute("data-mention-ids") || "").split(/\s+/).filter(Boolean);
    return [own].concat(all.filter(function (m) { return m !== own; }));
  }

  // -- /review ----------------------------------------------------------------

  function Review(queue) {
    var self = this;
    this.queue = queue;
    this.items = Array.prototype.slice.call(queue.querySelectorAll(".review-item[data-mention-id]"));
    this.current = null;
    this.undoStack = [];  // [{ids, item}], newest last
    this.counter = document.querySelector(".review-count");
    this.status = document.querySelector(".review-status");
    if (!this.status && this.counter) {
      this.status = el("p", "review-status");
      this.status.setAttribute("role", "status");
      this.counter.insertAdjacentElement("afterend", this.status);
    }
    this.items.forEach(function (item) {
      item.tabIndex = -1;
      item.addEventListener("focus", function () { self.select(item, false); });
      item.addEventListener("click", function (e) {
        var button = e.target.closest("button");
        if (button && !button.disabled) { self.button(item, button); }
        else if (!e.target.closest("a")) { self.select(item, true); }
      });
    });
    document.addEventListener("keydown", function (e) { self.key(e); });
    if (this.items.length) { this.select(this.items[0], false); }
    this.count();
    queue.setAttribute("data-state", "ready");
  }

  // The items not decided yet, in order.
  Review.prototype.open = function () {
    return this.items.filter(function (item) { return !item.classList.contains("done"); });
  };

  Review.prototype.count = function () {
    var left = this.open().length, counter = this.counter;
    if (counter) {
      counter.textContent = "";
      if (left === 0) {
        counter.appendChild(el("span", "review-left", "0"));
        counter.appendChild(document.createTextNode(" items left: nothing left to review in this view."));
      } else {
        counter.appendChild(el("span", "review-left", left));
        counter.appendChild(document.createTextNode(left === 1 ? " item left to review" : " items left to review"));
      }
      counter.setAttribute("data-left", left);
    }
    return left;
  };

  Review.prototype.say = function (words) { if (this.status) { this.status.textContent = words; } };

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
    } else if (!item || item.classList.contains("done")) {
      return;
    } else if (KEYS.indexOf(key) >= 0) {
      e.preventDefault();
      var pick = item.querySelectorAll("button.review-pick")[KEYS.indexOf(key)];
      if (pick) { this.button(item, pick); } else { this.say("There is no candidate " + key + " here."); }
    } else if (key === "x" || key === "a") {
      e.preventDefault();
      this.button(item, item.querySelector(key === "x" ? "button.review-not-a-place" : "button.review-accept"));
    } else if (key === "Enter" && e.target === item) {
      e.preventDefault();
      this.dialog(item);
    }
  };

  // One of an item's buttons, pressed or chosen by its key.
  Review.prototype.button = function (item, button) {
    if (!button) { return; }
    this.select(item, true);
    if (button.disabled) {
      this.say(button.classList.contains("review-accept") && !item.querySelector(".review-shown strong")
        ? "Nothing to accept: this name is not placed." : "You may not correct here (sign in, or the map is read-only).");
      return;
    }
    var action = button.getAttribute("data-action");
    if (action === "place") {
      var name = text(button).replace(/^\d\s*/, "").split(" (")[0];
      this.decide(item, "place", +button.getAttribute("data-geonameid"), "placed at " + name);
    } else if (action === "not_a_place") {
      this.decide(item, "not_a_place", null, "not a place");
    } else if (action === "accept") {
      this.decide(item, "accept", null, "accepted as it is");
    }
  };

  // The next (step 1) or previous (-1) item not decided yet.
  Review.prototype.move = function (step) {
    var items = this.items, at = items.indexOf(this.current), i = at + step;
    while (i >= 0 && i < items.length && items[i].classList.contains("done")) { i += step; }
    if (i < 0 || i >= items.length) {  // none that way: the nearest the other way
      var open = this.open();
      if (!open.length || open.indexOf(this.current) >= 0) { return; }
      i = items.indexOf(open[step > 0 ? open.length - 1 : 0]);
    }
    this.select(items[i], true);
  };

  Review.prototype.select = function (item, focus) {
    if (this.current && this.current !== item) {
      this.current.classList.remove("current");
      this.current.removeAttribute("aria-current");
    }
    this.current = item;
    item.classList.add("current");
    item.setAttribute("aria-current", "true");
    if (focus && document.activeElement !== item && !item.contains(document.activeElement)) {
      item.focus({preventScroll: true});
    }
    if (focus) { item.scrollIntoView({block: "nearest"}); }
  };

  // Send one decision for each of the item's mentions, in turn; then it leaves the queue.
  Review.prototype.decide = function (item, action, geonameid, words) {
    var self = this, made = [];
    if (item.getAttribute("data-busy")) { return; }
    item.setAttribute("data-busy", "1");
    mentionsOf(item).reduce(function (chain, id) {
      return chain.then(function () {
        return corrections.send(id, action, geonameid, "mention")
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
    note.textContent = "Done: " + words + " (u undoes it)";
    var left = this.count();
    this.say("\u201c" + text(item.querySelector(".review-name")) + "\u201d " + words + ". " +
             (left ? dom.plural(left, "item", "items") + " left." : "Queue cleared."));
    if (left) { this.move(1); }
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
      self.say("Undone: \u201c" + text(last.item.querySelector(".review-name")) + "\u201d is back in the queue.");
    }).catch(function (err) {
      self.undoStack.push(last);
      self.say("Not undone: " + err.message);
    });
  };

  // Enter: the full dialog (search the gazetteer, choose the scope).
  Review.prototype.dialog = function (item) {
    var self = this, decided = null;
    if (!corrections.canWrite()) { this.say("This map is read-only."); return; }
    corrections.open({
      mentionId: item.getAttribute("data-mention-id"), written: text(item.querySelector(".review-name")),
      opener: item, context: "In \u201c" + text(item.querySelector(".review-story a")) + "\u201d",
      onChange: function (change) { decided = change; },
      onClose: function () {
        if (!decided || decided.action === "undo") { return; }
        self.undoStack.push({ids: [decided.correction.id], item: item});
        self.done(item, decided.action === "place" ? "placed at " + decided.place.name : "not a place");
      }
    });
  };

  // -- /review/log ----------------------------------------------------------------

  function wireLog(log) {
    log.querySelectorAll("button.review-undo[data-undo]").forEach(function (button) {
      var row = button.closest("tr"), cell = button.parentNode;
      button.setAttribute("aria-label", "Undo: " + text(row.cells[2]) + " " + text(row.cells[4]));
      button.addEventListener("click", function () {
        button.disabled = true;
        corrections.undo(button.getAttribute("data-undo")).then(function () {
          row.classList.add("review-undone");
          row.setAttribute("data-undone", "1");
          cell.textContent = "undone just now";
        }).catch(function (err) {
          button.disabled = false;
          var said = cell.querySelector(".review-log-error") || cell.appendChild(el("span", "review-log-error"));
          said.setAttribute("role", "alert");
          said.textContent = " " + err.message;
        });
      });
    });
  }

  function start() {
    var queue = document.querySelector(".review-queue");
    if (queue) { window.mapapp.review = new Review(queue); }
    var log = document.querySelector("table.review-log");
    if (log) { wireLog(log); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());

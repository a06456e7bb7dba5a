/* mapapp: "Wrong place?" — an editor corrects one mention in the browser (mapapp.corrections).
 *
 * corrections.button({mentionId, written, context, onChange, onClose}) is a "Wrong place?" button
 * (null when the visitor may not write: see canWrite); it opens
 * corrections.open({mentionId, written, opener, onChange}), a modal dialog
 * (role=dialog, the focus kept inside, Escape closes and gives the focus back
 * to the opener) listing the candidates the resolver weighed
 * (GET /api/mentions/<id>/candidates: name, admin-1, country, feature,
 * population, score and a dot on a small world box each), a search over the
 * whole gazetteer (GET /api/places/search?q=) and "Not a place".  Picking one
 * asks for the scope (this mention, this name in this story, this name in
 * every story), then POST /api/corrections with the X-CSRF-Token header;
 * onChange({correction, mention, action, place}) follows a 201, and the
 * dialog offers an undo (DELETE /api/corrections/<id>, onChange again).
 * Every name from the data goes in through textContent (dom.el).
 */
(function () {
  "use strict";

  var dom = window.mapapp.dom, el = dom.el;
  var SVG = "http://www.w3.org/2000/svg";
  var SCOPES = [["mention", "This mention only"], ["story", "This name everywhere in this story"],
                ["everywhere", "This name in every story (a rule future ingests apply too)"]];
  var FOCUSABLE = "button:not([disabled]), input:not([disabled]), a[href], [tabindex='0']";

  function csrfToken() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : null;
  }

  // The app's URL root ("" unless it is served under a prefix), from <meta name="mapapp-root">.
  function root() {
    var meta = document.querySelector("meta[name=mapapp-root]");
    return meta ? (meta.getAttribute("content") || "").replace(/\/$/, "") : "";
  }

  // The JSON body of a request (a promise); a failure rejects with the server's sentence.
  function request(method, path, body) {
    var headers = {Accept: "application/json"};
    if (method !== "GET") { headers["X-CSRF-Token"] = csrfToken() || ""; }
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(root() + path, {method: method, credentials: "same-origin", headers: headers,
                                 body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (response) {
        return response.text().then(function (text) {
          var parsed = null;
          try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
          if (!response.ok) {
            var said = parsed && (parsed.error || parsed.message);
            throw new Error(said || "the server answered " + response.status);
          }
          return parsed;
        });
      });
  }

  // A candidate or search hit with the field names the API may use, made uniform.
  function uniform(c) {
    return {
      geonameid: c.geonameid === undefined ? null : c.geonameid, name: c.name || "",
      admin1: c.admin1 || c.admin1_name || "", country: c.country_code || "",
      countryName: c.country && c.country !== c.country_code ? c.country : "",
      featureClass: c.feature_class || "", featureCode: c.feature_code || "",
      population: +c.population || 0, score: c.score === undefined ? null : c.score,
      lat: +(c.lat === undefined ? c.latitude : c.lat), lon: +(c.lon === undefined ? c.longitude : c.lon)
    };
  }

  function listOf(body, key) {
    if (Array.isArray(body)) { return body; }
    return (body && (body[key] || body.results || body.places)) || [];
  }

  // A small world box (lon -180..180, lat -90..90) with a dot where the place is.
  function miniMap(lat, lon) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "mapapp-minimap");
    svg.setAttribute("viewBox", "-180 -90 360 180");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var box = document.createElementNS(SVG, "rect");
    [["x", -180], ["y", -90], ["width", 360], ["height", 180]].forEach(function (a) {
      box.setAttribute(a[0], a[1]);
    });
    svg.appendChild(box);
    if (isFinite(lat) && isFinite(lon)) {
      var dot = document.createElementNS(SVG, "circle");
      dot.setAttribute("cx", Math.max(-180, Math.min(180, lon)));
      dot.setAttribute("cy", Math.max(-90, Math.min(90, -lat)));
      dot.setAttribute("r", 22);
      svg.appendChild(dot);
    }
    return svg;
  }

  // What a candidate is, in words: "Geneva, Switzerland (CH) · PPLA · pop. 183,981".
  function describe(c) {
    var country = c.countryName ? c.countryName + (c.country ? " (" + c.country + ")" : "") : c.country;
    var where = [c.admin1, country].filter(Boolean).join(", ");
    var parts = [where, c.featureCode || c.featureClass,
                 c.population ? "pop. " + c.population.toLocaleString("en-GB") : ""];
    return parts.filter(Boolean).join(" \u00b7 ");
  }

  // A candidate as a button: dot, name and details, score; ``key`` (1-9) is shown when given.
  function candidateButton(c, key, current) {
    var button = el("button", "mapapp-candidate");
    button.type = "button";
    button.appendChild(miniMap(c.lat, c.lon));
    var text = el("span");
    if (key) { text.appendChild(el("span", "mapapp-cand-key", key + " ")); }
    text.appendChild(el("span", "mapapp-cand-name", c.name || "(no name)"));
    text.appendChild(el("span", "mapapp-cand-detail", describe(c)));
    button.appendChild(text);
    button.appendChild(el("span", "mapapp-cand-score",
                          c.score === null ? "" : "score " + Number(c.score).toFixed(2)));
    if (current) {
      button.setAttribute("aria-current", "true");
      text.appendChild(el("span", "mapapp-cand-now", "shown now"));
    }
    return button;
  }

  // -- the dialog --------------------------------------------------------------

  function Dialog(options) {
    this.options = options;
    this.opener = options.opener || document.activeElement;
    this.choice = null;      // {action, place} once something is picked
    this.done = null;        // the correction made, for the undo
    this.base = null;        // the correction the mention stood on when loaded (conflicts)
    this.build();
    this.load();
  }

  Dialog.prototype.build = function () {
    var self = this, o = this.options;
    this.backdrop = el("div", "mapapp-dialog-backdrop");
    var box = this.box = el("div", "mapapp-dialog");
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-labelledby", "mapapp-dialog-title");
    box.setAttribute("data-mention", o.mentionId);
    var title = el("h2", null, "Where is \u201c" + (o.written || "this place") + "\u201d?");
    title.id = "mapapp-dialog-title";
    box.appendChild(title);
    if (o.context) { box.appendChild(el("p", "mapapp-dialog-context", o.context)); }
    box.appendChild(el("h3", null, "The places the resolver weighed"));
    this.list = box.appendChild(el("ul", "mapapp-candidates"));
    this.list.appendChild(el("li", null, "Loading\u2026"));

    box.appendChild(el("h3", null, "Or search the gazetteer"));
    var form = el("form", "mapapp-dialog-search");
    form.setAttribute("role", "search");
    var label = el("label", "mapapp-visually-hidden", "Place name");
    var input = this.input = el("input");
    input.type = "search";
    input.id = "mapapp-dialog-q";
    input.maxLength = 200;
    input.autocomplete = "off";
    input.placeholder = "Place name";
    label.htmlFor = input.id;
    form.appendChild(label);
    form.appendChild(input);
    var go = el("button", null, "Search");
    go.type = "submit";
    form.appendChild(go);
    form.addEventListener("submit", function (e) { e.preventDefault(); self.search(input.value); });
    box.appendChild(form);
    this.hits = box.appendChild(el("ul", "mapapp-candidates mapapp-hits"));

    this.scope = box.appendChild(el("fieldset", "mapapp-scope"));
    this.scope.hidden = true;

    var actions = box.appendChild(el("div", "mapapp-dialog-actions"));
    var notPlace = actions.appendChild(el("button", "mapapp-not-a-place", "Not a place"));
    notPlace.type = "button";
    notPlace.addEventListener("click", function () { self.pick({action: "not_a_place"}); });
    var close = actions.appendChild(el("button", "mapapp-dialog-close", "Close"));
    close.type = "button";
    close.addEventListener("click", function () { self.close(); });

    this.status = box.appendChild(el("p", "mapapp-dialog-status"));
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");

    this.backdrop.appendChild(box);
    this.backdrop.addEventListener("mousedown", function (e) {
      if (e.target === self.backdrop) { self.close(); }
    });
    this.onKey = function (e) { self.key(e); };
    document.addEventListener("keydown", this.onKey, true);
    document.body.appendChild(this.backdrop);
    Dialog.current = this;
  };

  // Escape closes; Tab and Shift+Tab go round the dialog's own controls.
  Dialog.prototype.key = function (e) {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      this.close();
      return;
    }
    if (e.key !== "Tab") {
      if (this.box.contains(e.target)) { e.stopPropagation(); }  // not the review page's keys
      return;
    }
    var items = Array.prototype.filter.call(this.box.querySelectorAll(FOCUSABLE), function (n) {
      return n.offsetParent !== null;
    });
    if (!items.length) { return; }
    var first = items[0], last = items[items.length - 1], active = document.activeElement;
    if (!this.box.contains(active)) {
      e.preventDefault();
      first.focus();
    } else if (e.shiftKey && active === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && active === last) {
      e.preventDefault();
      first.focus();
    }
  };

  Dialog.prototype.load = function () {
    var self = this;
    request("GET", "/api/mentions/" + encodeURIComponent(this.options.mentionId) + "/candidates")
      .then(function (body) {
        var current = body && body.current ? body.current.geonameid : null;
        self.base = body && body.base !== undefined ? body.base : null;
        if (body && body.sentence && !self.options.context) {
          self.box.querySelector("h2").insertAdjacentElement("afterend",
            el("p", "mapapp-dialog-context", body.sentence));
        }
        self.fill(self.list, listOf(body, "candidates").map(uniform), current,
                  "The resolver weighed no other place for this name.");
        self.box.setAttribute("data-state", "ready");
        var first = self.list.querySelector("button") || self.input;
        first.focus();
      })
      .catch(function (err) {
        self.list.textContent = "";
        self.list.appendChild(el("li", null, "The candidates could not be loaded: " + err.message));
        self.box.setAttribute("data-state", "ready");
        self.input.focus();
      });
  };

  Dialog.prototype.search = function (q) {
    var self = this;
    q = (q || "").trim();
    if (!q) { return; }
    this.say("Searching\u2026");
    request("GET", "/api/places/search?" + new URLSearchParams({q: q}).toString())
      .then(function (body) {
        var hits = listOf(body, "places").map(uniform);
        self.fill(self.hits, hits, null, "No place in the gazetteer is called that.");
        self.say(dom.plural(hits.length, "place", "places") + " found");
      })
      .catch(function (err) { self.say("The search failed: " + err.message, true); });
  };

  Dialog.prototype.fill = function (list, places, current, none) {
    var self = this;
    list.textContent = "";
    if (!places.length) { list.appendChild(el("li", null, none)); return; }
    places.forEach(function (c) {
      var item = list.appendChild(el("li"));
      var button = item.appendChild(candidateButton(c, null,
        current !== null && current !== undefined && c.geonameid === current));
      button.addEventListener("click", function () { self.pick({action: "place", place: c}); });
    });
  };

  // Something was picked: ask for the scope.
  Dialog.prototype.pick = function (choice) {
    var self = this, scope = this.scope;
    this.choice = choice;
    scope.textContent = "";
    scope.hidden = false;
    scope.appendChild(el("legend", null, choice.action === "place"
      ? "Put it at " + choice.place.name + " (" + describe(choice.place) + ") for\u2026"
      : "Not a place, for\u2026"));
    SCOPES.forEach(function (s, i) {
      var label = scope.appendChild(el("label"));
      var radio = el("input");
      radio.type = "radio";
      radio.name = "mapapp-scope";
      radio.value = s[0];
      radio.checked = i === 0;
      label.appendChild(radio);
      label.appendChild(document.createTextNode(" " + s[1]));
    });
    var apply = scope.appendChild(el("button", "mapapp-apply-correction", "Apply"));
    apply.type = "button";
    apply.addEventListener("click", function () {
      self.send(scope.querySelector("input[name=mapapp-scope]:checked").value);
    });
    scope.querySelector("input").focus();
  };

  Dialog.prototype.send = function (scope) {
    var self = this, choice = this.choice;
    var body = {mention_id: this.options.mentionId, action: choice.action, scope: scope};
    if (choice.action === "place") { body.geonameid = choice.place.geonameid; }
    if (this.base !== null && this.base !== undefined) { body.base = this.base; }  // 409 if changed
    this.say("Saving\u2026");
    request("POST", "/api/corrections", body)
      .then(function (answer) {
        self.done = answer;
        self.base = null;  // this dialog's own change is now the base: no conflict check
        self.scope.hidden = true;
        self.say(choice.action === "place" ? "Moved to " + choice.place.name + "." : "Marked as not a place.");
        self.offerUndo();
        self.box.setAttribute("data-state", "saved");
        self.notify({correction: answer, mention: answer && answer.mention,
                     action: choice.action, place: choice.place || null});
      })
      .catch(function (err) { self.say("Not saved: " + err.message, true); });
  };

  Dialog.prototype.offerUndo = function () {
    var self = this, undo = el("button", "mapapp-undo", "Undo");
    undo.type = "button";
    undo.addEventListener("click", function () {
      undo.disabled = true;
      corrections.undo(self.done.id).then(function (answer) {
        self.say("Undone.");
        self.box.setAttribute("data-state", "undone");
        self.notify({correction: answer, mention: answer && answer.mention, action: "undo",
                     place: null});
      }).catch(function (err) { undo.disabled = false; self.say("Not undone: " + err.message, true); });
    });
    this.status.appendChild(document.createTextNode(" "));
    this.status.appendChild(undo);
    undo.focus();
  };

  Dialog.prototype.notify = function (change) {
    if (this.options.onChange) { this.options.onChange(change); }
  };

  Dialog.prototype.say = function (text, error) {
    this.status.textContent = text;
    this.status.className = "mapapp-dialog-status" + (error ? " error" : "");
  };

  Dialog.prototype.close = function () {
    document.removeEventListener("keydown", this.onKey, true);
    if (this.backdrop.parentNode) { this.backdrop.parentNode.removeChild(this.backdrop); }
    if (Dialog.current === this) { Dialog.current = null; }
    var opener = this.opener;  // the focus goes back (onClose decides when the opener is gone)
    if (opener && document.contains(opener) && opener.focus) { opener.focus(); }
    if (this.options.onClose) { this.options.onClose(this.done); }
  };

  var corrections = {
    // This visitor may write: the page has a CSRF token, is not read-only (MAPAPP_READ_ONLY)
    // and the server says so (mapapp-can-write: the local user, or a signed-in editor).
    canWrite: function () {
      var ro = document.querySelector("meta[name=mapapp-read-only]");
      var can = document.querySelector("meta[name=mapapp-can-write]");
      return csrfToken() !== null && !(ro && ro.getAttribute("content") === "1") &&
        !(can && can.getAttribute("content") === "0");
    },
    request: request,
    miniMap: miniMap,
    describe: describe,
    uniform: uniform,
    candidateButton: candidateButton,

    // Open the dialog for one mention; returns it.
    open: function (options) {
      if (Dialog.current) { Dialog.current.close(); }
      return new Dialog(options);
    },

    // A correction for one mention, without the dialog (the review page's keys).
    send: function (mentionId, action, geonameid, scope) {
      var body = {mention_id: mentionId, action: action, scope: scope || "mention"};
      if (action === "place") { body.geonameid = geonameid; }
      return request("POST", "/api/corrections", body);
    },

    undo: function (id) {
      return request("DELETE", "/api/corrections/" + encodeURIComponent(id));
    },

    // "Wrong place?" (or o.label) for one mention (null when this page may not write); ``o``
    // has mentionId, written, context, onChange and onClose as the dialog takes them.
    button: function (o) {
      var mentionId = o.mentionId, written = o.written;
      if (!mentionId || !corrections.canWrite()) { return null; }
      var label = o.label || "Wrong place?", button = el("button", "mapapp-wrong", label);
      button.type = "button";
      button.setAttribute("data-mention-id", mentionId);
      button.setAttribute("aria-haspopup", "dialog");
      // the visible words first, then which name (axe: label-content-name-mismatch)
      if (written) { button.setAttribute("aria-label", label + " \u201c" + written + "\u201d"); }
      button.addEventListener("click", function (e) {
        e.preventDefault();
        corrections.open({mentionId: mentionId, written: written, opener: button,
                          onChange: o.onChange, onClose: o.onClose, context: o.context});
      });
      return button;
    }
  };

  window.mapapp = window.mapapp || {};
  window.mapapp.corrections = corrections;
}());

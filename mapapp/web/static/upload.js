/* mapapp: story files dropped on the map, or chosen with the upload form, are ingested
 * (mapapp.Upload).
 *
 * The form (form.mapapp-upload, its file input for keyboard users) and a drop
 * anywhere on the map send the files to the form's action (POST /api/uploads,
 * multipart, with the page's CSRF token from <meta name="csrf-token"> when it
 * has one).  A progress bar follows the bytes sent, then stands indeterminate
 * while the server geoparses; the report says what was added and names each
 * skipped file with its reason.  New stories are then drawn at once, in the
 * same view (mapapp.live.show).  The form reports data-state: "idle",
 * "sending", "ingesting", "done" or "error".
 */
(function () {
  "use strict";

  var mapapp = window.mapapp, dom = mapapp.dom, el = dom.el;

  function csrfToken() {
    var meta = document.querySelector("meta[name='csrf-token']");
    return meta ? meta.getAttribute("content") : null;
  }

  function megabytes(bytes) { return (bytes / 1048576).toFixed(1) + " MB"; }

  function Upload(form, pane) {
    var self = this;
    this.form = form;
    this.input = form.querySelector("input[type=file]");
    this.progress = form.querySelector("progress");
    this.report = form.querySelector(".mapapp-upload-report");
    this.maxBytes = +form.getAttribute("data-max-bytes") || 0;
    this.drop = pane ? pane.querySelector(".mapapp-drop") : null;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.send(Array.prototype.slice.call(self.input.files || []));
    });
    if (pane) { this._listen(pane); }
    this._state("idle");
  }

  Upload.prototype._state = function (state) { this.form.setAttribute("data-state", state); };

  // Files dragged over the map show the drop zone; dropped, they are sent.
  Upload.prototype._listen = function (pane) {
    var self = this, depth = 0;
    function carriesFiles(event) {
      var types = event.dataTransfer && event.dataTransfer.types;
      return !!types && Array.prototype.indexOf.call(types, "Files") >= 0;
    }
    pane.addEventListener("dragenter", function (event) {
      if (!carriesFiles(event)) { return; }
      event.preventDefault();
      depth++;
      if (self.drop) { self.drop.hidden = false; }
    });
    pane.addEventListener("dragover", function (event) {
      if (!carriesFiles(event)) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    pane.addEventListener("dragleave", function (event) {
      if (!carriesFiles(event)) { return; }
      depth = Math.max(0, depth - 1);
      if (!depth && self.drop) { self.drop.hidden = true; }
    });
    pane.addEventListener("drop", function (event) {
      if (!carriesFiles(event)) { return; }
      event.preventDefault();
      depth = 0;
      if (self.drop) { self.drop.hidden = true; }
      self.send(Array.prototype.slice.call(event.dataTransfer.files));
    });
  };

  // Send ``files`` (File objects) and report what the server made of them.
  Upload.prototype.send = function (files) {
    var self = this, total = 0;
    if (this.form.getAttribute("data-state") === "sending" ||
        this.form.getAttribute("data-state") === "ingesting") { return; }
    if (!files.length) { this._fail("Choose one or more story files first."); return; }
    files.forEach(function (f) { total += f.size; });
    if (this.maxBytes && total > this.maxBytes) {
      this._fail("The files come to " + megabytes(total) + ": the server takes at most " +
                 megabytes(this.maxBytes) + " at once.");
      return;
    }
    var body = new FormData(), xhr = new XMLHttpRequest();
    files.forEach(function (f) { body.append("files", f, f.name); });
    xhr.open("POST", this.form.getAttribute("action"));
    xhr.setRequestHeader("Accept", "application/json");
    var token = csrfToken();
    if (token) { xhr.setRequestHeader("X-CSRF-Token", token); }
    var count = dom.plural(files.length, "file", "files");
    this._state("sending");
    this._say("Sending " + count + "\u2026");
    this.progress.hidden = false;
    this.progress.value = 0;
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { self.progress.value = 100 * event.loaded / event.total; }
    });
    xhr.upload.addEventListener("load", function () {
      self.progress.removeAttribute("value");  // indeterminate while the server geoparses
      self._state("ingesting");
      self._say("Geoparsing " + count + "\u2026");
    });
    xhr.addEventListener("load", function () { self._answered(xhr); });
    xhr.addEventListener("error", function () {
      self._fail("The upload did not reach the server: is mapapp still running?");
    });
    xhr.send(body);
  };

  Upload.prototype._answered = function (xhr) {
    var body = null;
    try { body = JSON.parse(xhr.responseText); } catch { body = null; }  // not JSON: said below
    if (xhr.status !== 200 || !body || body.error) {
      this._fail((body && body.error) || "The server answered " + xhr.status + ".");
      return;
    }
    this._summary(body);
    this._state("done");
    this.input.value = "";
    if (body.added > 0 && mapapp.live) { mapapp.live.show(); }
  };

  // The ingest summary: one line of counts, then each skipped file with its reason.
  Upload.prototype._summary = function (s) {
    var plural = dom.plural, report = this.report;
    this.progress.hidden = true;
    report.textContent = "";
    report.appendChild(el("p", "mapapp-upload-counts",
      plural(s.files, "file", "files") + ": " + plural(s.added, "story", "stories") + " added (" +
      plural(s.places, "place", "places") + " found), " + s.already_stored + " already stored, " +
      s.skipped.length + " skipped."));
    if (s.skipped.length) {
      var list = el("ul", "mapapp-upload-skipped");
      s.skipped.forEach(function (item) {
        var row = el("li");
        row.appendChild(el("strong", null, item.file || "(a file)"));
        row.appendChild(document.createTextNode(": " + item.reason));
        list.appendChild(row);
      });
      report.appendChild(list);
    }
    (s.notes || []).forEach(function (note) { report.appendChild(el("p", "mapapp-upload-note", note)); });
  };

  Upload.prototype._say = function (text) {
    this.report.textContent = "";
    this.report.appendChild(el("p", null, text));
  };

  Upload.prototype._fail = function (message) {
    this.progress.hidden = true;
    this.report.textContent = "";
    this.report.appendChild(el("p", "mapapp-upload-error", message));
    this._state("error");
  };

  function start() {
    var form = document.querySelector("form.mapapp-upload");
    if (form) { mapapp.upload = new Upload(form, document.querySelector(".map-pane")); }
  }

  mapapp.Upload = Upload;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());

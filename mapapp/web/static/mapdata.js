/* mapapp: the map's data in the browser, and its filters.
 *
 * /api/points sends every mappable mention once, as column tables: stories
 * (id, headline, date), places (name, admin-1, country, feature code, area
 * flag, position) and mentions (story, place, role and score as numbers).
 * MapData keeps them in typed arrays and filters them for a state in one
 * pass over the mentions, so dates and filters change without asking the
 * server.  The rules are mapapp.maps.view.filter_mentions's, which
 * makes the exports: a download holds what the map shows.  Besides filter,
 * the main map's modules read the columns below and call storiesAt,
 * storiesWithin, leadPlace, compareStories and bestMention.
 */
(function () {
  "use strict";

  var DAY_MS = 86400000;
  var NO_DAY = -2147483648;  // an undated story

  // Milliseconds of a UTC date; unlike Date.UTC, years 0-99 are not read as 1900-1999.
  function utcTime(year, month, day) {
    var d = new Date(0);
    d.setUTCFullYear(year, month, day);
    return d.getTime();
  }

  // "YYYY-MM-DD" -> whole days since 1970-01-01 (UTC); null when not a date.
  function dayNumber(iso) {
    if (typeof iso !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(iso)) { return null; }
    var t = utcTime(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10));
    return isNaN(t) ? null : Math.round(t / DAY_MS);
  }

  function isoDay(day) {
    return new Date(day * DAY_MS).toISOString().slice(0, 10);
  }

  function lower(text) {
    return text === null || text === undefined ? "" : String(text).toLowerCase();
  }

  // For each owner (a place or a story), the mentions it holds: rows start[i]..start[i+1].
  function groupRows(owner, count) {
    var start = new Int32Array(count + 1), rows = new Int32Array(owner.length), i;
    for (i = 0; i < owner.length; i++) { start[owner[i] + 1]++; }
    for (i = 0; i < count; i++) { start[i + 1] += start[i]; }
    var next = start.slice(0, count);
    for (i = 0; i < owner.length; i++) { rows[next[owner[i]]++] = i; }
    return {start: start, rows: rows};
  }

  function MapData(payload) {
    var s = payload.stories, p = payload.places, m = payload.mentions, i;
    this.version = payload.version;
    this.roles = payload.roles;
    this.lowScore = payload.low_score;
    this.countryNames = payload.country_names || {};
    this.storyCount = s.id.length;
    this.placeCount = p.name.length;
    this.mentionCount = m.story.length;

    this.story = {id: s.id, headline: s.headline, published: s.published,
                  day: new Int32Array(this.storyCount), text: s.headline.map(lower)};
    this.firstDay = null;
    this.lastDay = null;
    for (i = 0; i < this.storyCount; i++) {
      var day = dayNumber(s.published[i]);
      this.story.day[i] = day === null ? NO_DAY : day;
      if (day !== null) {
        if (this.firstDay === null || day < this.firstDay) { this.firstDay = day; }
        if (this.lastDay === null || day > this.lastDay) { this.lastDay = day; }
      }
    }
    this.place = {key: p.key, name: p.name, admin1: p.admin1, country: p.country, code: p.code,
                  area: Uint8Array.from(p.area), lat: Float64Array.from(p.lat),
                  lon: Float64Array.from(p.lon), text: p.name.map(lower),
                  countryUpper: p.country.map(function (c) { return (c || "").toUpperCase(); })};
    this.mention = {story: Int32Array.from(m.story), place: Int32Array.from(m.place),
                    role: Uint8Array.from(m.role), score: Int32Array.from(m.score),
                    id: m.id || null};  // the stable mention ids, for corrections
    this.byPlace = groupRows(this.mention.place, this.placeCount);
    this.byStory = groupRows(this.mention.story, this.storyCount);
  }

  /* Filter for ``state`` = {start, end (ISO or ""), undated, q, country, roles,
   * minScore, areas}.  Returns, per mention, whether it is shown (pass); per
   * place, how many shown mentions it has and their best score; per story, its
   * shown mentions (storyShown) and whether it passes every filter but the
   * dates (storyBase, for the timeline); and the totals. */
  MapData.prototype.filter = function (state) {
    var nP = this.placeCount, nS = this.storyCount, nM = this.mentionCount, i;
    var roleMask = 0, self = this;
    (state.roles || []).forEach(function (role) {
      var at = self.roles.indexOf(role);
      if (at >= 0) { roleMask |= 1 << at; }
    });
    var start = dayNumber(state.start), end = dayNumber(state.end);
    var minScore = Math.round((+state.minScore || 0) * 1000);
    var country = (state.country || "").toUpperCase();
    var q = lower((state.q || "").trim());

    var placeOk = new Uint8Array(nP), placeHit = new Uint8Array(nP);
    for (i = 0; i < nP; i++) {
      placeOk[i] = (!country || this.place.countryUpper[i] === country) &&
                   (state.areas || !this.place.area[i]) ? 1 : 0;
      placeHit[i] = !q || this.place.text[i].indexOf(q) >= 0 ? 1 : 0;
    }
    var storyHit = new Uint8Array(nS), inRange = new Uint8Array(nS);
    for (i = 0; i < nS; i++) {
      var day = this.story.day[i];
      storyHit[i] = q && this.story.text[i].indexOf(q) >= 0 ? 1 : 0;
      inRange[i] = day === NO_DAY ? (state.undated ? 1 : 0)
        : ((start === null || day >= start) && (end === null || day <= end) ? 1 : 0);
    }

    var mention = this.mention, pass = new Uint8Array(nM);
    var placeShown = new Int32Array(nP), placeBest = new Int32Array(nP).fill(-1);
    var storyShown = new Int32Array(nS), storyBase = new Uint8Array(nS);
    var result = {pass: pass, placeShown: placeShown, placeBest: placeBest,
                  storyShown: storyShown, storyBase: storyBase,
                  mentions: 0, places: 0, stories: 0, undatedStories: 0};
    for (i = 0; i < nM; i++) {
      var p = mention.place[i], s = mention.story[i];
      if (!(roleMask & (1 << mention.role[i])) || mention.score[i] < minScore || !placeOk[p]) {
        continue;
      }
      if (q && !placeHit[p] && !storyHit[s]) { continue; }
      storyBase[s] = 1;
      if (!inRange[s]) { continue; }
      pass[i] = 1;
      result.mentions++;
      if (placeShown[p]++ === 0) { result.places++; }
      if (storyShown[s]++ === 0) { result.stories++; }
      if (mention.score[i] > placeBest[p]) { placeBest[p] = mention.score[i]; }
    }
    for (i = 0; i < nS; i++) {
      if (storyBase[i] && this.story.day[i] === NO_DAY) { result.undatedStories++; }
    }
    return result;
  };

  // The shown mentions of place ``p``, grouped by story, newest story first.
  MapData.prototype.storiesAt = function (result, p) {
    var rows = this.byPlace.rows, byStory = new Map(), i;
    for (i = this.byPlace.start[p]; i < this.byPlace.start[p + 1]; i++) {
      var m = rows[i];
      if (!result.pass[m]) { continue; }
      var s = this.mention.story[m], entry = byStory.get(s);
      if (!entry) { entry = {story: s, mentions: []}; byStory.set(s, entry); }
      entry.mentions.push(m);
    }
    var self = this;
    return Array.from(byStory.values()).sort(function (a, b) {
      return self.compareStories(a.story, b.story);
    });
  };

  /* The stories with a shown mention at a place inside ``box`` ({south, west,
   * north, east} in degrees, as a map's bounds: east may pass 180 and west
   * -180; a box 360 degrees wide holds every place), newest first. */
  MapData.prototype.storiesWithin = function (result, box) {
    var wide = box.east - box.west >= 360, seen = new Uint8Array(this.storyCount), stories = [];
    for (var p = 0; p < this.placeCount; p++) {
      if (!result.placeShown[p]) { continue; }
      var lat = this.place.lat[p], lon = this.place.lon[p];
      if (!wide) {
        if (lat < box.south || lat > box.north) { continue; }
        if (!((lon >= box.west && lon <= box.east) ||
              (lon + 360 >= box.west && lon + 360 <= box.east) ||
              (lon - 360 >= box.west && lon - 360 <= box.east))) { continue; }
      }
      for (var i = this.byPlace.start[p]; i < this.byPlace.start[p + 1]; i++) {
        var m = this.byPlace.rows[i], s = this.mention.story[m];
        if (result.pass[m] && !seen[s]) { seen[s] = 1; stories.push(s); }
      }
    }
    var self = this;
    return stories.sort(function (a, b) { return self.compareStories(a, b); });
  };

  // The place that stands for story ``s`` in ``result``: its dateline, else its focus, else
  // a mention; null when none of its mentions is shown.
  MapData.prototype.leadPlace = function (result, s) {
    var role = this.mention.role, best = null;
    for (var i = this.byStory.start[s]; i < this.byStory.start[s + 1]; i++) {
      var m = this.byStory.rows[i];
      if (result.pass[m] && (best === null || role[m] < role[best])) { best = m; }
    }
    return best === null ? null : this.mention.place[best];
  };

  // Newest first, undated last, then by headline.
  MapData.prototype.compareStories = function (a, b) {
    var da = this.story.day[a], db = this.story.day[b];
    if (da !== db) { return db - da; }
    var ha = this.story.headline[a] || "", hb = this.story.headline[b] || "";
    return ha < hb ? -1 : ha > hb ? 1 : 0;
  };

  // The shown mention of a story that best stands for it: highest score, then dateline first.
  MapData.prototype.bestMention = function (mentions) {
    var score = this.mention.score, role = this.mention.role;
    return mentions.reduce(function (best, m) {
      if (best === null || score[m] > score[best] ||
          (score[m] === score[best] && role[m] < role[best])) { return m; }
      return best;
    }, null);
  };

  window.mapapp = window.mapapp || {};
  window.mapapp.MapData = MapData;
  window.mapapp.NO_DAY = NO_DAY;
  window.mapapp.dayNumber = dayNumber;
  window.mapapp.isoDay = isoDay;
}());

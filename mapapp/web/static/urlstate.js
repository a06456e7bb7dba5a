/* mapapp: the view's state as URLs (mapapp.urlState).
 *
 * The filters are spelled as mapapp.maps.view.MapView.params spells
 * them, so the server opens a link on the same view and exports the same
 * rows: the address bar holds the filters plus the map's centre and zoom,
 * each export link the filters alone.  ``state`` is the main map's filter
 * state ({start, end, undated, q, country, roles, minScore, areas}) and
 * ``roles`` every role the data knows, in order.
 */
(function () {
  "use strict";

  // The query string of a state: only what differs from the defaults.
  function params(state, roles) {
    var query = new URLSearchParams();
    if (state.start) { query.set("start", state.start); }
    if (state.end) { query.set("end", state.end); }
    if (!state.undated) { query.set("undated", "0"); }
    if (state.q) { query.set("q", state.q); }
    if (state.country) { query.set("country", state.country); }
    var chosen = roles.filter(function (r) { return state.roles.indexOf(r) >= 0; });
    if (chosen.length !== roles.length) { query.set("role", chosen.join(",")); }
    if (state.minScore > 0) { query.set("min_score", String(state.minScore)); }
    if (!state.areas) { query.set("areas", "0"); }
    if (state.layer && state.layer !== "events") { query.set("layer", state.layer); }
    if (state.types && state.types.length) { query.set("types", state.types.join(",")); }
    if (state.dates && state.dates !== "event") { query.set("dates", state.dates); }
    return query;
  }

  // The state and the map's centre and zoom into the address bar, with no new history entry.
  function save(map, state, roles) {
    var query = params(state, roles), centre = map.getCenter().wrap();
    query.set("lat", centre.lat.toFixed(4));
    query.set("lon", centre.lng.toFixed(4));
    query.set("zoom", String(Math.round(map.getZoom())));
    history.replaceState(null, "", location.pathname + "?" + query.toString() + location.hash);
  }

  // Each export link (its data-format put into ``template`` for FORMAT) downloads the state's rows.
  function exportLinks(links, template, state, roles) {
    var query = params(state, roles).toString();
    links.forEach(function (link) {
      link.href = template.replace("FORMAT", link.getAttribute("data-format")) +
                  (query ? "?" + query : "");
    });
  }

  window.mapapp = window.mapapp || {};
  window.mapapp.urlState = {params: params, save: save, exportLinks: exportLinks};
}());

/* mapapp: the map of a view saved as one HTML file (mapapp.maps.offline), drawn from disk.
 *
 * Reads the JSON blocks the file carries (the view's places and stories, the
 * country outlines, the basemap labels) and draws them with Leaflet: land on
 * the ocean, the names (labels.js), a marker per place (a ring for areas,
 * faded when the resolver was unsure) with a popup of its stories, a title
 * and a legend.  Nothing is fetched.  Every text goes in through
 * textContent.  The map's element gets data-markers (how many were drawn)
 * once it is ready.
 */
(function () {
  "use strict";

  var POINT = "#c0392b", AREA = "#6c3483";

  function block(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  // A place's popup: its name, how many stories, and each story's date and headline.
  function popup(place, shown) {
    var box = el("div", "mapapp-offline-popup");
    box.appendChild(el("h3", null, place.name));
    box.appendChild(el("p", null, plural(place.stories.length, "story", "stories") +
      (place.area ? " \u00b7 an area, not an exact spot" : "") +
      (place.best < view.lowScore ? " \u00b7 low confidence" : "")));
    var list = el("ul");
    place.stories.slice(0, shown).forEach(function (story) {
      var item = el("li");
      item.appendChild(el("span", "mapapp-date", story[1]));
      var link = story[2] && /^https?:\/\//i.test(story[2]) ? el("a", null, story[0])
                                                              : el("span", null, story[0]);
      if (link.tagName === "A") {
        link.href = story[2];
        link.target = "_blank";
        link.rel = "noopener noreferrer";
      }
      item.appendChild(link);
      list.appendChild(item);
    });
    box.appendChild(list);
    if (place.stories.length > shown) {
      box.appendChild(el("p", null, "and " + plural(place.stories.length - shown,
        "more story", "more stories")));
    }
    return box;
  }

  function control(position, build) {
    var Box = L.Control.extend({options: {position: position}, onAdd: build});
    return new Box();
  }

  var view = block("mapapp-view");
  var map = L.map("map", {worldCopyJump: true, minZoom: 1, maxZoom: 12});
  map.attributionControl.setPrefix("Leaflet");
  view.attribution.forEach(function (text) { map.attributionControl.addAttribution(text); });
  var land = view.land;
  L.geoJSON(block("mapapp-outlines"), {style: land, interactive: false,
                                       renderer: L.canvas({padding: 0.5})}).addTo(map);

  control("topright", function () {
    var box = el("div", "mapapp-offline-title");
    box.appendChild(el("h1", null, view.title));
    box.appendChild(el("p", null, view.subtitle));
    box.appendChild(el("p", null, view.counts + " \u00b7 saved " + view.made));
    return box;
  }).addTo(map);
  control("bottomleft", function () {
    var box = el("div", "mapapp-offline-legend");
    [["Town or city", POINT, true], ["Country or region (an area)", AREA, false],
     ["Low confidence (score below " + view.lowScore + ")", POINT, true]].forEach(function (row, i) {
      var line = el("div"), swatch = el("span");
      swatch.style.background = row[2] ? row[1] : "transparent";
      swatch.style.border = "2px solid " + row[1];
      if (i === 2) { swatch.style.opacity = "0.35"; }
      line.appendChild(swatch);
      line.appendChild(document.createTextNode(row[0]));
      box.appendChild(line);
    });
    return box;
  }).addTo(map);

  var points = [];
  view.places.forEach(function (place) {
    var sure = place.best >= view.lowScore;
    var marker = L.circleMarker([place.lat, place.lon], {
      radius: 5 + 2 * Math.sqrt(place.stories.length), weight: place.area ? 3 : 1.5,
      color: place.area ? AREA : "#ffffff", fill: !place.area, fillColor: POINT,
      fillOpacity: sure ? 0.9 : 0.35, opacity: sure ? 1 : 0.5, pane: "markerPane",
      className: place.area ? "mapapp-offline-area" : "mapapp-offline-point"
    });
    marker.bindPopup(popup(place, view.storiesShown), {maxWidth: 360});
    marker.bindTooltip(el("span", null, place.name), {direction: "top"});
    marker.addTo(map);
    points.push([place.lat, place.lon]);
  });
  if (view.view.zoom !== null && view.view.lat !== null && view.view.lon !== null) {
    map.setView([view.view.lat, view.view.lon], view.view.zoom);
  } else if (points.length) {
    map.fitBounds(L.latLngBounds(points), {padding: [40, 40], maxZoom: 6});
  } else {
    map.setView([20, 10], 2);
  }
  window.mapapp.basemapLabels(map, block("mapapp-labels"));
  map.getContainer().setAttribute("data-markers", String(points.length));
}());

/* mapapp: on a story page, a highlighted place name shows its point on the small map.
 *
 * A place's name in the text, its item in the places list and its marker on
 * the map all carry the place's key in data-point (the marker's is set by
 * PointLabel in mapapp/maps/elements.py).  A click on a name finds the marker
 * with the same key and sends it "mapapp:show": the marker centres the map on
 * itself and opens its label.  Nothing is shared through a global. */
(function () {
  "use strict";

  function markerFor(key) {
    var found = null;
    document.querySelectorAll(".story-map .leaflet-interactive[data-point]")
      .forEach(function (element) {
        if (!found && element.getAttribute("data-point") === key) { found = element; }
      });
    return found;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-point]") : null;
    var marker = link ? markerFor(link.getAttribute("data-point")) : null;
    if (marker) {
      marker.dispatchEvent(new CustomEvent("mapapp:show"));
    }
  });
}());

/* mapapp: on a story page, a highlighted place name shows its point on the small map. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-point]") : null;
    var points = window.mapappPoints || {};
    if (!link || !points[link.getAttribute("data-point")]) { return; }
    var marker = points[link.getAttribute("data-point")];
    var map = marker._map;
    if (map) {
      map.setView(marker.getLatLng(), Math.max(map.getZoom(), 5));
      marker.openTooltip();
    }
  });
}());

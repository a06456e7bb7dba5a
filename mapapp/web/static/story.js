/* mapapp: on a story page, a highlighted place name shows its point on the small map.
 *
 * A place's name in the text, its item in the places list and its marker on
 * the map all carry the place's key in data-point (the marker's is set by
 * PointLabel in mapapp/maps/elements.py).  A click on a name finds the marker
 * with the same key and sends it "mapapp:show": the marker centres the map on
 * itself and opens its label.  The address's #fragment follows the place
 * with history.replaceState, so clicking through a story's places leaves one
 * history entry, not one per click (Back returns to where the reader came
 * from); the place's list item is scrolled to and marked as :target would be.
 * Nothing is shared through a global. */
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

  // Mark the places-list item of ``key`` (the one the #fragment names) and bring it into view.
  function target(key) {
    document.querySelectorAll(".places li.is-target").forEach(function (item) {
      item.classList.remove("is-target");
    });
    var item = document.getElementById(key);
    if (item) {
      item.classList.add("is-target");
      item.scrollIntoView({block: "nearest"});
    }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-point]") : null;
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    var key = link.getAttribute("data-point"), marker = markerFor(key);
    event.preventDefault();
    history.replaceState(history.state, "", link.getAttribute("href"));
    target(key);
    if (marker) {
      marker.dispatchEvent(new CustomEvent("mapapp:show"));
    }
  });
}());

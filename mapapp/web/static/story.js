/* mapapp: on a story page, a highlighted place name shows its point on the small map.
 *
 * A place's name in the text, its item in the places list and its marker on
 * the map all carry the place's key in data-point (the marker's is set by
 * PointLabel in mapapp/maps/elements.py).  A click on a name finds the marker
 * with the same key and sends it "mapapp:show": the marker centres the map on
 * itself and opens its label.  Nothing is shared through a global.
 *
 * Each place listed (and each name not placed) with a data-mention-id gets
 * "Wrong place?" (corrections.js) when the page may write; a correction
 * reloads the page, which the server renders with it applied.
 *
 * The address's #fragment follows the place with history.replaceState, so
 * clicking through a story's places leaves one history entry, not one per
 * click; the place's list item is scrolled to and marked as :target would be. */
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

  function addCorrections() {
    var corrections = window.mapapp && window.mapapp.corrections;
    if (!corrections) { return; }
    var headline = document.querySelector(".story h2.headline");
    var context = headline ? "In \u201c" + headline.textContent + "\u201d" : "";
    document.querySelectorAll(".places li[data-mention-id], .unplaced li[data-mention-id]")
      .forEach(function (item) {
        var changed = false;
        var button = corrections.button({
          mentionId: item.getAttribute("data-mention-id"),
          written: item.getAttribute("data-written"), context: context,
          label: item.closest(".unplaced") ? "Place it?" : "Wrong place?",
          onChange: function () { changed = true; },
          // the page is rendered again with the change applied
          onClose: function () { if (changed) { window.location.reload(); } }
        });
        if (!button) { return; }
        item.appendChild(document.createTextNode(" "));
        item.appendChild(button);
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", addCorrections);
  } else {
    addCorrections();
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

/* mapapp: the list of the stories in view beside the main map (mapapp.StoryList).
 *
 * The stories with a shown place inside the map's view, newest first (the
 * newest 200 listed); a story's button zooms to it, its "Read" link opens its
 * page, and the arrow, Home and End keys move between the buttons.
 * new StoryList(document, map, {storyUrl, onPick, onCount}): storyUrl(s) is
 * story s's page, onPick(s) when a story's button is pressed, onCount(n) with
 * the number of stories in view; show(mapData, result) relists for the view
 * and a filter result as they stand.
 */
(function () {
  "use strict";

  var dom = window.mapapp.dom, el = dom.el;
  var LIST_STORIES = 200;   // stories listed beside the map

  function StoryList(doc, map, handlers) {
    var self = this;
    this.map = map;
    this.handlers = handlers;
    this.list = doc.querySelector(".mapapp-list");
    this.count = doc.querySelector(".mapapp-list-count");
    if (this.list) { this.list.addEventListener("keydown", function (event) { self._key(event); }); }
  }

  StoryList.prototype.show = function (data, result) {
    var list = this.list, handlers = this.handlers;
    if (!list || !data || !result) { return; }
    var bounds = this.map.getBounds();
    var stories = data.storiesWithin(result, {south: bounds.getSouth(), west: bounds.getWest(),
                                              north: bounds.getNorth(), east: bounds.getEast()});
    var focused = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-story") : null;
    list.textContent = "";
    stories.slice(0, LIST_STORIES).forEach(function (s) {
      var item = el("li", "mapapp-list-item");
      var button = el("button", "mapapp-story", data.story.headline[s] || "(no headline)");
      button.type = "button";
      button.setAttribute("data-story", data.story.id[s]);
      button.addEventListener("click", function () { handlers.onPick(s); });
      item.appendChild(button);
      item.appendChild(el("span", "mapapp-list-meta", data.story.published[s] || "undated"));
      var url = handlers.storyUrl(s);
      if (dom.ownPath(url)) {
        var open = el("a", "mapapp-open", "Read");
        open.href = url;
        open.setAttribute("aria-label", "Read the story: " + (data.story.headline[s] || ""));
        item.appendChild(open);
      }
      list.appendChild(item);
    });
    if (focused) {
      var again = list.querySelector("button[data-story='" + CSS.escape(focused) + "']");
      if (again) { again.focus({preventScroll: true}); }
    }
    if (this.count) {
      this.count.textContent = dom.plural(stories.length, "story", "stories") + " in view" +
        (stories.length > LIST_STORIES ? " (the newest " + LIST_STORIES + " listed: zoom in for the rest)" : "");
    }
    handlers.onCount(stories.length);
  };

  StoryList.prototype._key = function (event) {
    var buttons = Array.prototype.slice.call(this.list.querySelectorAll("button.mapapp-story"));
    var at = buttons.indexOf(document.activeElement), next = null;
    if (event.key === "ArrowDown") { next = Math.min(buttons.length - 1, at + 1); }
    else if (event.key === "ArrowUp") { next = Math.max(0, at - 1); }
    else if (event.key === "Home") { next = 0; }
    else if (event.key === "End") { next = buttons.length - 1; }
    if (next === null || !buttons.length) { return; }
    event.preventDefault();
    buttons[next].focus();
  };

  window.mapapp = window.mapapp || {};
  window.mapapp.StoryList = StoryList;
}());

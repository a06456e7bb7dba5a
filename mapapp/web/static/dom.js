/* mapapp: the small DOM and text helpers the map's scripts share (mapapp.dom).
 *
 * el() is the one way these scripts make an element with text in it: the
 * text goes in through textContent, so text from the data never becomes HTML.
 */
(function () {
  "use strict";

  // An element of ``tag`` with an optional class and text (as text, never HTML).
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  // "1 story", "2,000 stories".
  function plural(n, one, many) {
    return n.toLocaleString("en-GB") + " " + (n === 1 ? one : many);
  }

  // Only links to our own pages ("/..."), never "//host" or "javascript:".
  function ownPath(url) {
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/";
  }

  // A score sent as whole thousandths, shown as "0.85".
  function score(milli) { return (milli / 1000).toFixed(2); }

  // ``fn`` called once calls have stopped for ``ms`` milliseconds, with the last call's arguments.
  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  window.mapapp = window.mapapp || {};
  window.mapapp.dom = {el: el, plural: plural, ownPath: ownPath, score: score, debounce: debounce};
}());

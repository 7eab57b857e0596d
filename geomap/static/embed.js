/* geomap embed.js: what the embedded map does as a frame in another site's page.
 *
 * - Leaflet.GestureHandling words its hint ("Use ctrl + scroll to zoom the map") in the
 *   browser's language; the embed speaks the language of its page (<html lang>). This runs
 *   after the plugin and before the map is made, so it is loaded in <head> after the plugin.
 * - With a fixed height (<html data-gm-post-height>), the frame tells its parent how tall the
 *   map is, for the host page's optional embed-resize.js. A height is no secret, so any parent
 *   may read it ("*"); the host script checks who sent it.
 */
(function () {
  "use strict";
  var root = document.documentElement;
  var plugin = window.leafletGestureHandling && window.leafletGestureHandling.GestureHandling;
  if (plugin) {
    var lang = /^zh/i.test(root.lang) ? "zh-CN" : "en";
    plugin.prototype._getUserLanguage = function () { return lang; };
  }

  if (!root.hasAttribute("data-gm-post-height") || window.parent === window) return;
  var last = 0;
  function post(again) {
    if (!document.body) return;
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height && (height !== last || again === true)) {
      last = height;
      window.parent.postMessage({ type: "geomap:height", height: height }, "*");
    }
  }
  function start() {
    post();
    if (window.ResizeObserver) new ResizeObserver(post).observe(document.body);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  window.addEventListener("load", post);
  // A host script that loaded after us asks again.
  window.addEventListener("message", function (event) {
    if (event.source === window.parent && event.data && event.data.type === "geomap:height?") post(true);
  });
})();

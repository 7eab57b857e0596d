/* geomap embed-resize.js: optional, for the page that embeds the map.
 *
 *   <script src="https://<geomap site>/assets/geomap/embed-resize.js" async></script>
 *
 * Each geomap embed posts {type: "geomap:height", height: N} to its parent. This script sets
 * the height of the iframe that sent it, and only when the message comes from that iframe's
 * window and from the origin of its src, and N is a finite number of pixels within bounds.
 * Nothing in a message ever reaches the page as markup.
 */
(function () {
  "use strict";
  if (window.geomapEmbedResize) return; // included twice: one listener is enough
  var MIN = 100, MAX = 10000;

  function originOf(src) {
    try { return new URL(src, window.location.href).origin; } catch (e) { return null; }
  }

  function frameOf(source) {
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === source) return frames[i];
    }
    return null;
  }

  function onMessage(event) {
    var data = event.data;
    if (!data || typeof data !== "object" || data.type !== "geomap:height") return;
    var height = data.height;
    if (typeof height !== "number" || !isFinite(height) || height < MIN || height > MAX) return;
    var frame = frameOf(event.source);
    if (!frame || originOf(frame.src) !== event.origin) return;
    frame.style.height = Math.round(height) + "px";
  }

  window.addEventListener("message", onMessage);

  // Frames that loaded before this script: ask them to tell their height again. A frame still on
  // its first, empty document has not loaded the embed yet: it will tell by itself.
  var frames = document.querySelectorAll("iframe[data-geomap-embed]");
  for (var i = 0; i < frames.length; i++) {
    var origin = originOf(frames[i].src);
    var loaded = false;
    try {
      var doc = frames[i].contentDocument;
      loaded = !doc || doc.URL !== "about:blank";
    } catch (e) { loaded = true; }
    if (loaded && origin && origin !== "null" && frames[i].contentWindow) {
      frames[i].contentWindow.postMessage({ type: "geomap:height?" }, origin);
    }
  }

  window.geomapEmbedResize = { version: 1 };
})();

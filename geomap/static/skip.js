/* geomap skip.js: "Skip to map", the first tab stop of the map pages, focuses the map itself
 * (where the arrow keys pan and Tab reaches the markers) rather than the region around it,
 * and leaves the address alone. Without this script the link still jumps to that region. */
(function () {
  "use strict";
  var links = document.querySelectorAll("a.gm-skip");
  for (var i = 0; i < links.length; i++) {
    links[i].addEventListener("click", function (event) {
      var region = document.getElementById(this.getAttribute("href").slice(1));
      var map = region && (region.querySelector(".leaflet-container") || region);
      if (!map) return;
      event.preventDefault();
      map.focus({ preventScroll: false });
    });
  }
})();

/* The full page around the map: list rows focus their partner's marker and open its popup. */
(function () {
  "use strict";
  var list = document.getElementById("gm-list");
  if (!list) return;
  list.addEventListener("click", function (event) {
    var row = event.target.closest("button.gm-row");
    if (!row || !window.geomapView) return;
    window.geomapView.focusPartner(row.getAttribute("data-partner"), true);
  });
})();

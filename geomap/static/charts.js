/* geomap charts.js: a click on a chart's bar applies its filter in place on the map page.
 *
 * Each bar of the panel's charts is a link to the page with that bar's filter (or without it,
 * for the filter already applied), which works without this script. With the page's in-place
 * filtering (filters.js, window.geomapPage) the click sets the form's field for that filter
 * and applies the form, so the form, the URL, the map, the list and the charts all agree; focus
 * comes back to the same bar once the charts are redrawn.
 */
(function () {
  "use strict";
  var FIELDS = { sector: "gm-sector", type: "gm-type", province: "gm-province" };
  var again = null;  // [filter, value] of the bar to focus after the swap

  document.addEventListener("click", function (event) {
    var hit = event.target.closest && event.target.closest("a.gm-chart-hit");
    var page = window.geomapPage;
    if (!hit || !page || event.ctrlKey || event.metaKey || event.shiftKey || event.button) return;
    var filter = hit.getAttribute("data-filter");
    var field = document.getElementById(FIELDS[filter]);
    if (!field) return;  // a field the form does not have: the link
    event.preventDefault();
    field.value = hit.classList.contains("gm-active") ? "" : hit.getAttribute("data-value");
    again = [filter, hit.getAttribute("data-value")];
    page.apply(page.formUrl(), { history: "push" });
  });

  document.addEventListener("geomap:filtered", function () {
    if (!again) return;
    var target = document.querySelector('a.gm-chart-hit[data-filter="' + again[0] + '"][data-value="' +
      (window.CSS && CSS.escape ? CSS.escape(again[1]) : again[1]) + '"]');
    again = null;
    if (target && (!document.activeElement || document.activeElement === document.body)) target.focus();
  });
})();

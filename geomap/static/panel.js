/* geomap panel.js: the map page's panel, and the way from it to the map.
 *
 * Below 768 px the panel (search, filters, list, downloads) is a bottom sheet: the map keeps
 * the screen while the sheet is closed, and a button under the map opens it. While it is open
 * the rest of the page is inert, Escape or the close button or a tap outside closes it, and
 * focus goes back to the button. At any width, a list row's "Map" button shows its partner on
 * the map (window.geomapView.focusPartner). (The skip link is skip.js's.)
 *
 * Without this script the panel simply follows the map (page.css); nothing is lost.
 */
(function () {
  "use strict";
  var body = document.body;
  var panel = document.getElementById("gm-panel");
  var main = document.getElementById("gm-map");
  if (!panel || !main) return;
  body.classList.add("gm-js");

  var toggle = document.getElementById("gm-sheet-toggle");
  var closer = document.getElementById("gm-sheet-close");
  var backdrop = document.getElementById("gm-backdrop");
  var skip = document.querySelector(".gm-skip");
  var head = document.querySelector(".gm-head");
  var phone = window.matchMedia("(max-width: 767.98px)");

  function isOpen() { return body.classList.contains("gm-sheet-open"); }

  function setInert(on) {
    [skip, head, toggle, main].forEach(function (node) {
      if (!node) return;
      node.inert = on;
      if (on) node.setAttribute("aria-hidden", "true"); else node.removeAttribute("aria-hidden");
    });
  }

  function open() {
    if (!phone.matches || isOpen()) return;
    body.classList.add("gm-sheet-open");
    toggle.setAttribute("aria-expanded", "true");
    setInert(true);
    panel.scrollTop = 0;
    panel.focus({ preventScroll: true });
  }

  function close(returnFocus) {
    if (!isOpen()) return;
    body.classList.remove("gm-sheet-open");
    toggle.setAttribute("aria-expanded", "false");
    setInert(false);
    if (returnFocus !== false) toggle.focus();
  }

  function mapNode() {
    return main.querySelector(".leaflet-container") || main;
  }

  if (toggle) toggle.addEventListener("click", function () { if (isOpen()) close(); else open(); });
  if (closer) closer.addEventListener("click", function () { close(); });
  if (backdrop) backdrop.addEventListener("click", function () { close(); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) { event.preventDefault(); close(); }
  });
  // Turned or resized to a desktop width: the panel is beside the map again.
  var onWidth = function () { if (!phone.matches) close(false); };
  if (phone.addEventListener) phone.addEventListener("change", onWidth); else phone.addListener(onWidth);

  // List rows (swapped in by filters.js: delegate from the panel).
  panel.addEventListener("click", function (event) {
    var button = event.target.closest(".gm-locate");
    if (!button || !window.geomapView) return;
    var id = button.getAttribute("data-partner");
    var wasOpen = isOpen();
    close(false);
    window.geomapView.focusPartner(id, true);
    // From the sheet, focus must not stay on a button that is now hidden.
    if (wasOpen && !main.contains(document.activeElement)) mapNode().focus({ preventScroll: true });
  });

  // The row of the partner whose details are open is marked.
  document.addEventListener("geomap:details", function (event) {
    var detail = event.detail || {};
    var rows = panel.querySelectorAll(".gm-item.gm-current");
    for (var i = 0; i < rows.length; i++) rows[i].classList.remove("gm-current");
    if (!detail.open || String(detail.key || "").indexOf("partner:") !== 0) return;
    var items = panel.querySelectorAll(".gm-item");
    for (var j = 0; j < items.length; j++) {
      if (items[j].getAttribute("data-partner") === detail.id) items[j].classList.add("gm-current");
    }
  });

  window.geomapPanel = { open: open, close: close, isOpen: isOpen };
})();

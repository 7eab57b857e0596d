/* Where details show: a popup beside its marker on a wide map (kept inside the map, scrolling
 * inside itself), a bottom sheet on a phone (never wider than the screen, scrolling inside
 * itself). Either way a labelled dialog with a heading and a close button that stays in view.
 * Opened from the keyboard, focus moves to the heading; Escape or the close button closes it
 * and gives focus back to whatever opened it (the marker, or a list row). */

/* global L */

import { clearSoon, controlInsets } from "./insets.js";
import { MIN_HIT } from "./symbols.js";
import { el, emit, nameNode } from "./text.js";

const WIDE = 600;  // px: below this, in the map or the window, details open as a bottom sheet
let serial = 0;

export function createDetailsView(map, hooks) {
  let current = null;

  function wide() {
    return map.getContainer().offsetWidth >= WIDE && window.innerWidth >= WIDE;
  }

  function frame(content, labels) {
    const id = "gm-details-title-" + (++serial);
    const section = el("section", "gm-popup gm-details");
    section.setAttribute("role", "dialog");
    section.setAttribute("aria-labelledby", id);
    if (content.key.indexOf("partner:") === 0) section.setAttribute("data-partner", content.id);
    else section.setAttribute("data-site", content.id);
    const head = el("div", "gm-details-head");
    const title = nameNode("h2", "gm-partner-name", content.title, content.fb, labels);
    title.id = id;
    title.tabIndex = -1;
    const close = el("button", "gm-close");
    close.type = "button";
    close.setAttribute("aria-label", labels.close);
    close.appendChild(el("span", null, "\u00d7")).setAttribute("aria-hidden", "true");
    close.addEventListener("click", () => closeDetails(true));
    head.appendChild(title);
    head.appendChild(close);
    section.appendChild(head);
    section.appendChild(content.body);
    return { section: section, title: title };
  }

  function onKey(e) {
    if (current && (e.key === "Escape" || e.key === "Esc")) {
      e.preventDefault();
      e.stopPropagation();
      closeDetails(true);
    }
  }

  // opts: latlng, offset (px above the point), keyboard, returnTo (element), source (layer)
  function open(content, labels, opts) {
    const returnTo = opts.returnTo || (opts.source && opts.source.getElement && opts.source.getElement())
      || document.activeElement;
    closeDetails(false, true);
    const built = frame(content, labels);
    const state = { key: content.key, content: content, section: built.section, returnTo: returnTo, source: opts.source };
    if (wide()) {
      const size = map.getSize();
      // Clear of the zoom buttons and the attribution, and short enough to leave the map some
      // room to move (so no symbol need stay under a control).
      const ins = controlInsets(map);
      const top = ins.top + 8, bottom = ins.bottom + 8;
      state.popup = L.popup({
        maxWidth: Math.min(400, size.x - 64), minWidth: Math.min(300, size.x - 64),
        maxHeight: Math.max(160, Math.min(Math.round(size.y * 0.66), size.y - top - bottom - 64)),
        autoPanPaddingTopLeft: [16, top], autoPanPaddingBottomRight: [16, bottom], closeButton: false,
        className: "gm-popup-wrap", offset: [0, 7 - (opts.offset || 0)],
      }).setLatLng(opts.latlng).setContent(built.section);
      state.popup.on("remove", () => { if (current === state) finish(false); });
      state.popup.openOn(map);
      clearSoon(map, () => state.popup.getElement());
    } else {
      const sheet = el("div", "gm-sheet");
      sheet.setAttribute("lang", document.documentElement.lang || "");
      sheet.appendChild(built.section);
      document.body.appendChild(sheet);
      state.sheet = sheet;
      keepAboveSheet(opts.latlng, sheet, opts.keep);
      clearSoon(map, null);
    }
    current = state;
    document.addEventListener("keydown", onKey, true);
    if (opts.keyboard || opts.focus) built.title.focus({ preventScroll: true });
    hooks.opened(state);
    emit("geomap:details", { open: true, key: content.key, id: content.id, mode: state.popup ? "popup" : "sheet" });
    return state;
  }

  // The chosen place stays in sight above the sheet, with its Shanghai-side sites when they
  // fit, and clear of the controls at the map's top.
  function keepAboveSheet(latlng, sheet, keep) {
    if (!latlng) return;
    const rect = map.getContainer().getBoundingClientRect();
    const top = Math.max(rect.top, 0) + controlInsets(map).top + MIN_HIT / 2 + 2;
    const bottom = Math.min(window.innerHeight - sheet.offsetHeight, rect.bottom) - MIN_HIT / 2 - 2;
    const ys = [latlng].concat(keep || []).map((ll) => rect.top + map.latLngToContainerPoint(ll).y);
    const y = rect.top + map.latLngToContainerPoint(latlng).y;
    const lo = Math.min.apply(null, ys), hi = Math.max.apply(null, ys);
    let dy = 0;
    if (hi - lo <= bottom - top) {
      if (lo < top || hi > bottom) dy = (lo + hi) / 2 - (top + bottom) / 2;
    } else if (y < top || y > bottom) {
      dy = y - (top + bottom) / 2;
    }
    if (dy) map.panBy([0, dy], { animate: false });
  }

  function finish(returnFocus) {
    const state = current;
    if (!state) return;
    current = null;
    document.removeEventListener("keydown", onKey, true);
    if (state.sheet) state.sheet.remove();
    // A popup fades out empty: never two dialogs at once. Hidden now, removed once the click
    // that closed it has reached the map (Leaflet finds where a click came from by walking up
    // from its target, which must still be in the page).
    state.section.hidden = true;
    setTimeout(() => state.section.remove(), 0);
    hooks.closed(state);
    emit("geomap:details", { open: false, key: state.key, id: state.content.id });
    if (returnFocus) {
      const target = state.returnTo && state.returnTo.isConnected ? state.returnTo : hooks.fallbackFocus(state);
      if (target && target.focus) target.focus({ preventScroll: true });
    }
  }

  function closeDetails(returnFocus, switching) {
    const state = current;
    if (!state) return;
    // Focus inside the details goes back to its opener however it closes (unless another
    // opens in its place and takes it).
    const inside = state.section.contains(document.activeElement);
    if (state.popup) {
      current = null;            // the popup's "remove" must not finish twice
      map.closePopup(state.popup);
      current = state;
    }
    finish(returnFocus || (inside && !switching));
  }

  function refresh() {
    if (current && current.popup) current.popup.update();
  }

  return {
    open: open, close: closeDetails, refresh: refresh,
    current: () => current,
  };
}

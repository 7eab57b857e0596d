/* How far the map's controls reach in from its top and bottom edges: the zoom buttons, the
 * attribution, a collapsed legend, the embed's "Open the full map" link (marked
 * data-gm-over-map). A symbol half under a control cannot be hit (WCAG 2.2 target size), so
 * every view the map frames by itself keeps the symbols clear of them. An open legend is
 * left out: it is tall, sits beside the data and is allowed for separately. */

import { MIN_HIT } from "./symbols.js";

// The map's controls, and the page's own elements laid over the map.
function controlsOf(container) {
  return Array.prototype.slice.call(container.querySelectorAll(".leaflet-control"))
    .concat(Array.prototype.slice.call(document.querySelectorAll("[data-gm-over-map]")));
}

export function controlInsets(map) {
  const container = map.getContainer();
  const box = container.getBoundingClientRect();
  const out = { top: 0, bottom: 0 };
  controlsOf(container).forEach((node) => {
    if (node.classList.contains("gm-legend-open")) return;
    const r = node.getBoundingClientRect();
    if (!r.width || !r.height || r.height > box.height * 0.4) return;
    if (r.bottom <= box.top || r.top >= box.bottom || r.right <= box.left || r.left >= box.right) return;
    if ((r.top + r.bottom) / 2 < box.top + box.height / 2) out.top = Math.max(out.top, r.bottom - box.top);
    else out.bottom = Math.max(out.bottom, box.bottom - r.top);
  });
  return out;
}

// fitBounds padding that keeps a symbol's whole target clear of the controls.
export function framePadding(map, pad, right) {
  const ins = controlInsets(map);
  const half = MIN_HIT / 2 + 2;
  return {
    paddingTopLeft: [pad, Math.max(pad + 8, ins.top + half)],
    paddingBottomRight: [pad + (right || 0), Math.max(pad, ins.bottom + half)],
  };
}

function rectsOf(nodes) {
  const out = [];
  nodes.forEach((n) => {
    const r = n.getBoundingClientRect();
    if (r.width && r.height) out.push(r);
  });
  return out;
}

function overlaps(a, b, dx, dy) {
  return a.left + dx < b.right && a.right + dx > b.left && a.top + dy < b.bottom && a.bottom + dy > b.top;
}

/* After the map pans by itself to show details (a popup's auto-pan, a sheet's nudge), a symbol
 * may have slid half under a control, where it cannot be hit. Pan the least distance that
 * clears every symbol in view (moving it clear, or out of the map), keeping `keep` (the open
 * popup) inside the map. Does nothing when nothing is covered, so calling it twice is safe. */
export function clearOfControls(map, keep) {
  const container = map.getContainer();
  const box = container.getBoundingClientRect();
  const controls = rectsOf(controlsOf(container));
  const symbols = rectsOf(Array.prototype.slice.call(
    container.querySelectorAll(".leaflet-marker-pane .gm-sym:not([aria-hidden='true']), .leaflet-pane .gm-sym:not([aria-hidden='true'])")));
  const inside = (r, dx, dy) => r.left + dx < box.right && r.right + dx > box.left && r.top + dy < box.bottom && r.bottom + dy > box.top;
  const covered = (dx, dy) => symbols.some((s) => inside(s, dx, dy) && controls.some((c) => overlaps(s, c, dx, dy)));
  if (!covered(0, 0)) return false;
  const k = keep && keep.getBoundingClientRect();
  const fits = (dx, dy) => !k || (k.left + dx >= box.left + 4 && k.right + dx <= box.right - 4 &&
                                  k.top + dy >= box.top + 4 && k.bottom + dy <= box.bottom - 4);
  const moves = [];
  symbols.forEach((s) => controls.forEach((c) => {
    if (!inside(s, 0, 0) || !overlaps(s, c, 0, 0)) return;
    moves.push([c.left - s.right - 1, 0], [c.right - s.left + 1, 0], [0, c.top - s.bottom - 1], [0, c.bottom - s.top + 1],
               [0, box.bottom - s.top + 1], [0, box.top - s.bottom - 1]);
  }));
  moves.sort((a, b) => Math.abs(a[0]) + Math.abs(a[1]) - Math.abs(b[0]) - Math.abs(b[1]));
  for (let i = 0; i < moves.length; i++) {
    const [dx, dy] = moves[i];
    if (fits(dx, dy) && !covered(dx, dy)) {
      map.panBy([-dx, -dy], { animate: false });  // the view moves opposite to its content
      return true;
    }
  }
  return false;
}

// The same, once the map has settled: after the pan under way ends (a popup's animated
// auto-pan), or shortly (markercluster regroups with a short animation after a zoom).
export function clearSoon(map, keep) {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    map.off("moveend", run);
    clearOfControls(map, keep ? keep() : null);
  };
  map.on("moveend", run);
  setTimeout(run, 400);
}

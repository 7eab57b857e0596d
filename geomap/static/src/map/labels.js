/* Names on the map, in the page's language, wherever they fit. Every symbol shown is an
 * obstacle; names are placed in order of priority (the Shanghai hub, then the places with the
 * most agreements, then by kind: cities before districts before zones), each to the right of
 * its symbol, else left, above or below, and left out where none of these is free. Zooming in
 * makes room, so more names appear. rbush (a well-kept R-tree) answers "does this box touch
 * anything placed?" for hundreds of boxes in a frame. */

/* global L */

import RBush from "../../vendor/rbush/index.js";
import { el } from "./text.js";

const MAX_CANDIDATES = 250;  // names tried per layout: the most important ones in view
const GAP = 4;

// A stack spread out (spiderfied) fades; its members carry the names meanwhile.
function isSpread(layer) {
  return layer instanceof L.MarkerCluster && layer._group && layer._group._spiderfied === layer;
}

export function createLabels(map) {
  const pane = map.getPane("gmLabels") || map.createPane("gmLabels");
  pane.style.zIndex = 590;  // over the lines, under the symbols
  pane.style.pointerEvents = "none";
  const container = map.getContainer();
  const tree = new RBush();
  const nodes = new Map();    // text key -> element
  let shown = new Set();      // layers whose name is on the map
  let frame = 0;

  function keyOf(gm) {
    return gm.type + "\u0000" + gm.name + "\u0000" + (gm.more || "");
  }

  function nodeFor(gm) {
    const key = keyOf(gm);
    let node = nodes.get(key);
    if (!node) {
      node = el("span", "gm-label gm-label-" + gm.type, gm.name);
      node.setAttribute("aria-hidden", "true");  // each symbol's button already says its name
      node.setAttribute("data-name", gm.name);
      if (gm.fb) node.setAttribute("lang", "en");
      if (gm.more) node.appendChild(el("span", "gm-label-more", "+" + gm.more));
      node.style.visibility = "hidden";
      pane.appendChild(node);
      nodes.set(key, node);
    }
    return node;
  }

  function symbols() {
    const list = [];
    map.eachLayer((layer) => {
      if (!(layer instanceof L.Marker) || !layer.getElement()) return;
      const gm = layer.gm;
      const icon = layer.options.icon && layer.options.icon.options;
      const d = gm && gm.d ? gm.d : icon && icon.iconSize ? icon.iconSize[0] : 0;
      if (!d) return;
      list.push({ layer: layer, gm: gm, d: d });
    });
    return list;
  }

  function layout() {
    frame = 0;
    if (!map._loaded) return;
    const size = map.getSize();
    const origin = map.containerPointToLayerPoint([0, 0]);
    const obstacles = [];
    const named = [];
    const box = container.getBoundingClientRect();
    container.querySelectorAll(".leaflet-control, .gm-state").forEach((c) => {
      const r = c.getBoundingClientRect();
      if (r.width && r.height) {
        obstacles.push({ minX: r.left - box.left - GAP, minY: r.top - box.top - GAP,
                         maxX: r.right - box.left + GAP, maxY: r.bottom - box.top + GAP, owner: c });
      }
    });
    symbols().forEach((s) => {
      const p = map.latLngToContainerPoint(s.layer.getLatLng());
      if (p.x < -50 || p.y < -50 || p.x > size.x + 50 || p.y > size.y + 50) return;
      const r = s.d / 2;
      s.p = p;
      s.r = r;
      obstacles.push({ minX: p.x - r, minY: p.y - r, maxX: p.x + r, maxY: p.y + r, owner: s.layer });
      // A stack's count sticks out of its symbol: no name may cover it, not even its own.
      const badge = s.layer.getElement().querySelector(".gm-badge");
      if (badge) {
        const b = badge.getBoundingClientRect();
        s.badge = { minX: b.left - box.left, minY: b.top - box.top, maxX: b.right - box.left,
                    maxY: b.bottom - box.top, owner: badge };
        obstacles.push(s.badge);
      }
      const spread = isSpread(s.layer);
      if (s.gm && s.gm.name && !spread && p.x >= 0 && p.y >= 0 && p.x <= size.x && p.y <= size.y) named.push(s);
    });
    named.sort((a, b) => b.gm.priority - a.gm.priority || (a.gm.name < b.gm.name ? -1 : 1));
    named.length = Math.min(named.length, MAX_CANDIDATES);
    named.forEach((s) => { s.node = nodeFor(s.gm); });
    named.forEach((s) => { s.w = s.node.offsetWidth; s.h = s.node.offsetHeight; });  // one layout pass

    tree.clear();
    tree.load(obstacles);
    const next = new Set();
    const visible = new Set();
    named.forEach((s) => {
      const { p, r, w, h } = s;
      // Right, left, above, below, then the four diagonals (cartography's usual order).
      const q = r * 0.7;
      const spots = [
        [p.x + r + GAP, p.y - h / 2], [p.x - r - GAP - w, p.y - h / 2],
        [p.x - w / 2, p.y - r - GAP / 2 - h], [p.x - w / 2, p.y + r + GAP / 2],
        [p.x + q, p.y - q - h], [p.x + q, p.y + q], [p.x - q - w, p.y - q - h], [p.x - q - w, p.y + q],
      ];
      if (s.badge) spots.unshift([s.badge.maxX + GAP, p.y - h / 2]);  // right, past the count
      for (let k = 0; k < spots.length; k++) {
        const [x, y] = spots[k];
        if (x < 2 || y < 2 || x + w > size.x - 2 || y + h > size.y - 2) continue;
        const b = { minX: x, minY: y, maxX: x + w, maxY: y + h, owner: s.layer };
        if (tree.search(b).some((o) => o.owner !== s.layer)) continue;
        tree.insert(b);
        L.DomUtil.setPosition(s.node, L.point(Math.round(x + origin.x), Math.round(y + origin.y)));
        s.node.style.visibility = "";
        visible.add(s.node);
        next.add(s.layer);
        return;
      }
    });
    nodes.forEach((node) => { if (!visible.has(node)) node.style.visibility = "hidden"; });
    shown = next;
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(layout);
  }

  function hide() { pane.style.display = "none"; }
  function show() { pane.style.display = ""; schedule(); }

  map.on("moveend resize", schedule);
  map.on("zoomstart", hide);
  map.on("zoomend", show);

  return {
    schedule: schedule,
    layoutNow: layout,
    isShown: (layer) => shown.has(layer),
    clear: () => { nodes.forEach((n) => n.remove()); nodes.clear(); shown = new Set(); },
    remove: () => {
      map.off("moveend resize", schedule);
      map.off("zoomstart", hide);
      map.off("zoomend", show);
      nodes.forEach((n) => n.remove());
      nodes.clear();
    },
  };
}

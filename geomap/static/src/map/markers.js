/* The symbols on the map: a marker per partner, the Shanghai hub and the Shanghai-side sites.
 * Each is a button named in the page's language ("Shaoxing, prefecture-level city, 7
 * agreements"); Enter or Space chooses it, like a click or a tap. Symbols closer than a
 * fingertip are grouped by Leaflet.markercluster into one stack that spreads out (spiderfies)
 * when chosen, so each can be picked; a large map also clusters at low zoom. */

/* global L */

import { familyCounts } from "./data.js";
import {
  FINGERTIP, clusterIcon, discFill, discSize, hubIcon, partnerIcon, siteIcon, stackIcon,
} from "./symbols.js";
import { countText, el, fill, midSentence } from "./text.js";

const CLUSTER_ZOOM = 12;  // a large map clusters widely below this zoom, by fingertip above
const reducedMotion = typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;

function markerName(labels, name, kind, count, lang) {
  return fill(labels.marker_name, { name: name, kind: midSentence(lang, kind), count: count });
}

function stackName(labels, name, more) {
  return fill(more === 1 ? labels.stack_one : labels.stack_many, { name: name, n: more });
}

export function createMarkers(map, data, idx, settings, hooks) {
  const L_ = data.labels;
  const large = !!settings.cluster;
  if (!map.getPane("gmShanghai")) map.createPane("gmShanghai").style.zIndex = 620;

  function groupOptions(wide) {
    return {
      maxClusterRadius: wide ? (z) => (z < CLUSTER_ZOOM ? 60 : FINGERTIP) : FINGERTIP,
      showCoverageOnHover: false, zoomToBoundsOnClick: false, spiderfyOnMaxZoom: false,
      removeOutsideVisibleBounds: true, chunkedLoading: wide, animate: !reducedMotion,
      spiderfyDistanceMultiplier: 1.6,
      spiderLegPolylineOptions: { weight: 1.5, color: "#1d232b", opacity: 0.7, interactive: false },
      iconCreateFunction: (cluster) => groupIcon(cluster, wide),
    };
  }

  const partnerGroup = L.markerClusterGroup(groupOptions(large));
  const shanghaiGroup = L.markerClusterGroup(L.extend(groupOptions(false), { clusterPane: "gmShanghai" }));

  function isWideCluster(cluster, wide) {
    return wide && cluster._zoom < CLUSTER_ZOOM;
  }

  function topOf(cluster) {
    let top = null;
    cluster.getAllChildMarkers().forEach((m) => {
      if (!top || m.gm.priority > top.gm.priority) top = m;
    });
    return top;
  }

  function groupIcon(cluster, wide) {
    const count = cluster.getChildCount();
    if (isWideCluster(cluster, wide)) {
      return clusterIcon(count, { layer: cluster, attrs: { "aria-label": fill(L_.cluster_name, { n: count }) } });
    }
    const top = topOf(cluster);
    const gm = { type: "stack", name: top.gm.name, fb: top.gm.fb, more: count - 1,
                 priority: top.gm.priority + 0.5, d: top.gm.d };
    cluster.gm = gm;
    return stackIcon(top, count, {
      layer: cluster,
      attrs: { "aria-label": stackName(L_, top.gm.name, count - 1), "aria-expanded": "false" },
    });
  }

  // -- partners ----------------------------------------------------------------------------
  const markers = data.partners.map((p, i) => {
    const marker = L.marker(p.ll, { keyboard: true });
    marker.gm = { type: "partner", index: i, name: p.name, fb: p.fb };
    return marker;
  });

  function restyle(i) {
    const p = data.partners[i];
    const counts = familyCounts(idx, i);
    const n = counts.reduce((s, c) => s + c, 0);
    const marker = markers[i];
    const gm = marker.gm;
    gm.n = n;
    gm.d = discSize(n);
    gm.priority = n * 16 + (8 - Math.min(p.rank === undefined ? 8 : p.rank, 8));
    const fillCss = discFill(L_.families, counts);
    if (gm.key === fillCss + n) return n;  // unchanged: keep the element (and its focus)
    gm.key = fillCss + n;
    marker.setIcon(partnerIcon(gm.d, fillCss, {
      layer: marker,
      attrs: {
        "data-partner": p.id, "aria-haspopup": "dialog",
        "aria-label": markerName(L_, p.name, p.kind, countText(L_, n), data.lang),
      },
    }));
    return n;
  }

  // -- Shanghai: the hub and the sites -----------------------------------------------------
  const hub = data.hub || { name: "", ll: data.center };
  const siteMarkers = data.sites.map((s, si) => {
    const isHub = si === idx.hubSite;
    const marker = L.marker(s.ll, { keyboard: true, pane: "gmShanghai" });
    marker.gm = { type: isHub ? "hub" : "site", index: si, name: s.name, fb: s.fb };
    return marker;
  });
  let hubMarker = null;
  if (idx.hubSite < 0) {  // Shanghai itself signed none of the agreements shown: a symbol only
    hubMarker = L.marker(hub.ll, {
      keyboard: false, interactive: false, pane: "gmShanghai",
      icon: hubIcon({ attrs: { "aria-hidden": "true" } }),
    });
    hubMarker.gm = { type: "hub", index: -1, name: hub.name, fb: hub.fb, priority: Infinity, d: 28 };
  }

  function restyleSite(si) {
    const s = data.sites[si];
    const marker = siteMarkers[si];
    const gm = marker.gm;
    const n = idx.siteCounts[si];
    gm.n = n;
    gm.priority = gm.type === "hub" ? Infinity : n * 16;
    gm.d = gm.type === "hub" ? 28 : 12;
    if (gm.key === n) return n;
    gm.key = n;
    const options = {
      layer: marker,
      attrs: {
        "data-site": s.id, "aria-haspopup": "dialog",
        "aria-label": markerName(L_, s.name, L_.shanghai_site, countText(L_, n), data.lang),
      },
    };
    marker.setIcon(gm.type === "hub" ? hubIcon(options) : siteIcon(options));
    return n;
  }

  // -- which show (a year mask may hide some), in one bulk change per group ----------------
  const shown = { partners: new Set(), sites: new Set() };
  function sync(indices, list, restyleOne, group, set) {
    const add = [];
    const remove = [];
    const restyled = [];
    indices.forEach((i) => {
      const m = list[i];
      const before = m.gm.key;
      const n = restyleOne(i);
      if (n > 0 && !set.has(i)) { set.add(i); add.push(m); }
      else if (n === 0 && set.has(i)) { set.delete(i); remove.push(m); }
      else if (n > 0 && m.gm.key !== before) restyled.push(m);
    });
    if (remove.length) group.removeLayers(remove);
    if (add.length) group.addLayers(add);
    // The stacks holding a restyled symbol take its new count and pie (added and removed
    // symbols update their stacks themselves).
    if (group._map && restyled.length) group.refreshClusters(restyled);
  }

  const everySite = siteMarkers.map((m, i) => i);
  function update() {
    sync(idx.changedPartners || markers.map((m, i) => i), markers, restyle, partnerGroup, shown.partners);
    sync(everySite, siteMarkers, restyleSite, shanghaiGroup, shown.sites);
    orderForKeyboard();
  }

  // Tab goes through the places in the order of the list beside the map (the data's order),
  // whatever order the groups drew them in; a stack takes its first place's turn. Nothing
  // moves while a symbol has focus (moving a node drops its focus): the next change sorts.
  function orderForKeyboard() {
    const pane = map.getPane("markerPane");
    if (!pane || pane.contains(document.activeElement)) return;
    const rank = (node) => {
      const layer = node.gmLayer;
      if (layer instanceof L.MarkerCluster) {
        let r = Infinity;
        layer.getAllChildMarkers().forEach((m) => { if (m.gm && m.gm.index < r) r = m.gm.index; });
        return r;
      }
      return layer && layer.gm && layer.gm.type === "partner" ? layer.gm.index : Infinity;
    };
    const nodes = Array.prototype.filter.call(pane.children, (n) => n.gmLayer);
    const ranked = nodes.map((n, i) => [rank(n), i, n]);
    if (ranked.every((r, i) => i === 0 || ranked[i - 1][0] <= r[0])) return;
    ranked.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    ranked.forEach((r) => pane.appendChild(r[2]));
  }

  if (hubMarker) shanghaiGroup.addLayer(hubMarker);
  update();
  partnerGroup.addTo(map);
  shanghaiGroup.addTo(map);

  // -- choosing: click, tap, Enter or Space ------------------------------------------------
  function choose(layer, keyboard) {
    const gm = layer.gm;
    if (layer instanceof L.MarkerCluster) return chooseCluster(layer, keyboard);
    if (!gm) return;
    if (gm.type === "partner") hooks.openPartner(gm.index, { keyboard: keyboard, source: layer });
    else if (gm.index >= 0) hooks.openSite(gm.index, { keyboard: keyboard, source: layer });
  }

  function chooseCluster(cluster, keyboard) {
    const group = cluster._group;
    if (isWideCluster(cluster, group === partnerGroup && large)) {
      cluster.zoomToBounds({ padding: [48, 48] });
      return;
    }
    if (keyboard) {
      group.once("spiderfied", (e) => {
        const first = e.markers[0] && e.markers[0].getElement();
        if (first) first.focus();
      });
    }
    cluster.spiderfy();
  }

  [partnerGroup, shanghaiGroup].forEach((group) => {
    group.on("click", (e) => choose(e.layer, false));
    group.on("clusterclick", (e) => chooseCluster(e.layer, false));
    group.on("spiderfied", (e) => {
      const node = e.cluster.getElement();
      if (node) node.setAttribute("aria-expanded", "true");
      keepInView(e.markers);
      hooks.changed();
    });
    group.on("unspiderfied", (e) => {
      const node = e.cluster && e.cluster.getElement();
      if (node) node.setAttribute("aria-expanded", "false");
      hooks.changed();
    });
    // markercluster ignores moves made while it regroups: catch up with the view after.
    group.on("animationend", () => {
      if (group._map && group._moveEnd) group._moveEnd();
      orderForKeyboard();
      hooks.changed();
    });
  });

  // Spread out near an edge, some would be cut off (or under a control): pan them all in.
  function keepInView(list) {
    const size = map.getSize();
    const pad = FINGERTIP;
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    list.forEach((m) => {
      const p = map.latLngToContainerPoint(m.getLatLng());
      minX = Math.min(minX, p.x); minY = Math.min(minY, p.y);
      maxX = Math.max(maxX, p.x); maxY = Math.max(maxY, p.y);
    });
    const dx = minX < pad ? minX - pad : maxX > size.x - pad ? Math.min(maxX - size.x + pad, minX - pad) : 0;
    const dy = minY < pad ? minY - pad : maxY > size.y - pad - 16 ? Math.min(maxY - size.y + pad + 16, minY - pad) : 0;
    if (dx || dy) map.panBy([dx, dy], { animate: false });
  }

  const container = map.getContainer();
  function onKey(e) {
    const layer = e.target && e.target.gmLayer;
    if (!layer || (e.key !== "Enter" && e.key !== " " && e.key !== "Spacebar")) return;
    e.preventDefault();
    e.stopPropagation();
    choose(layer, true);
  }
  container.addEventListener("keydown", onKey);
  map.on("moveend", orderForKeyboard);  // the groups add the symbols that came into view

  // A name on hover where the map has no room for its label.
  const tip = L.tooltip({ direction: "top", className: "gm-tooltip" });
  function hover(e) {
    const layer = e.layer;
    const gm = layer && layer.gm;
    if (!gm || hooks.labelShown(layer)) return;
    const node = layer.getElement();
    const h = node ? node.offsetHeight : 24;
    tip.options.offset = [0, -h / 2];
    tip.setContent(el("span", null, gm.type === "stack" ? stackName(L_, gm.name, gm.more) : gm.name));
    tip.setLatLng(layer.getLatLng());
    map.openTooltip(tip);
  }
  [partnerGroup, shanghaiGroup].forEach((group) => {
    group.on("mouseover clustermouseover", hover);
    group.on("mouseout clustermouseout", () => map.closeTooltip(tip));
  });

  // The element that stands for a partner now: its marker, or the stack or cluster holding it.
  function visibleParent(marker) {
    const group = marker.options.pane === "gmShanghai" ? shanghaiGroup : partnerGroup;
    const parent = group.getVisibleParent(marker);
    return parent && parent.getElement ? parent.getElement() : null;
  }

  // Bring a marker out of its stack or cluster, then call back.
  function reveal(marker, done) {
    const group = marker.options.pane === "gmShanghai" ? shanghaiGroup : partnerGroup;
    if (!group.hasLayer(marker)) return;
    group.zoomToShowLayer(marker, done);
  }

  return {
    markers: markers, siteMarkers: siteMarkers, hubMarker: hubMarker, groups: [partnerGroup, shanghaiGroup],
    update: update, visibleParent: visibleParent, reveal: reveal,
    remove: () => {
      container.removeEventListener("keydown", onKey);
      map.off("moveend", orderForKeyboard);
      map.closeTooltip(tip);
      map.removeLayer(partnerGroup);
      map.removeLayer(shanghaiGroup);
    },
  };
}

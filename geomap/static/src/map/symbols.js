/* What every symbol looks like: partners, the Shanghai hub, Shanghai-side sites and groups of
 * close places. The map and the legend both draw from here, so the legend shows the symbols
 * exactly as the map draws them. One encoding for colour: a partner's disc is divided among the
 * types of its agreements, in the colours its lines to Shanghai are drawn in. Size: the number
 * of its agreements (area grows with the count). */

/* global L */

const coarse = typeof matchMedia === "function" && matchMedia("(pointer: coarse)").matches;
// The smallest thing a finger or a mouse is asked to hit (WCAG 2.2 target size: 24 CSS px),
// and the distance under which two symbols count as one spot and are grouped, then spread
// out when the group is chosen (a fingertip is 30-40 px wide).
export const MIN_HIT = coarse ? 32 : 24;
export const FINGERTIP = coarse ? 40 : 30;

export function discSize(n) {
  return Math.min(44, Math.round(12 + 5 * Math.sqrt(Math.max(n, 1))));
}

export function colorOf(families, key) {
  for (let i = 0; i < families.length; i++) if (families[i].key === key) return families[i].color;
  return "#5b6470";
}

// A solid colour, or a pie of the families' shares (conic-gradient), largest share first.
export function discFill(families, counts) {
  const total = counts.reduce((s, c) => s + c, 0);
  const parts = [];
  counts.forEach((c, i) => { if (c) parts.push([c, families[i].color]); });
  if (!parts.length) return "#5b6470";
  if (parts.length === 1) return parts[0][1];
  parts.sort((a, b) => b[0] - a[0]);
  let at = 0;
  const stops = parts.map(([c, color]) => {
    const from = at;
    at += (360 * c) / total;
    return color + " " + from.toFixed(1) + "deg " + at.toFixed(1) + "deg";
  });
  return "conic-gradient(" + stops.join(",") + ")";
}

// A DivIcon that names and styles its element, and knows the layer it belongs to (keyboard
// and labels find the layer from the focused element).
export const SymbolIcon = L.DivIcon.extend({
  createIcon: function (old) {
    const div = L.DivIcon.prototype.createIcon.call(this, old);
    const o = this.options;
    div.gmLayer = o.layer;
    const attrs = o.attrs || {};
    Object.keys(attrs).forEach((k) => div.setAttribute(k, attrs[k]));
    const vars = o.vars || {};
    Object.keys(vars).forEach((k) => div.style.setProperty(k, vars[k]));
    if (o.badge) {
      const badge = document.createElement("span");
      badge.className = "gm-badge";
      badge.setAttribute("aria-hidden", "true");
      badge.textContent = o.badge;
      div.appendChild(badge);
    }
    return div;
  },
});

function icon(cls, hit, options) {
  return new SymbolIcon(L.extend({ className: "gm-sym " + cls, iconSize: [hit, hit], html: "" }, options));
}

export function partnerIcon(d, fill, options) {
  return icon("gm-marker", Math.max(d, MIN_HIT), L.extend({ vars: { "--gm-d": d + "px", "--gm-fill": fill } }, options));
}

export const HUB_SIZE = 28;
export const SITE_SIZE = 12;

export function hubIcon(options) {
  return icon("gm-hub", Math.max(HUB_SIZE, MIN_HIT), options);
}

export function siteIcon(options) {
  return icon("gm-site", MIN_HIT, options);
}

// Places closer than a fingertip: the most important one's symbol, stacked, with a count.
export function stackIcon(top, count, options) {
  const o = top.options.icon.options;
  const hit = o.iconSize[0];
  return new SymbolIcon(L.extend({
    className: o.className + " gm-stack marker-cluster", iconSize: [hit, hit], html: "",
    vars: o.vars, badge: String(count),
  }, options));
}

// A large map's cluster at low zoom: a neutral disc with its number of places.
export function clusterIcon(count, options) {
  const d = Math.round(Math.min(56, 26 + 6 * Math.log10(count) * 2));
  return new SymbolIcon(L.extend({
    className: "gm-sym gm-cluster marker-cluster", iconSize: [d, d], html: "",
    vars: { "--gm-d": d + "px" }, badge: String(count),
  }, options));
}

// The same symbols for the legend: plain elements with the classes and variables the map uses.
export function swatch(kind, vars, badge) {
  const box = document.createElement("span");
  box.className = "gm-swatch";
  box.setAttribute("aria-hidden", "true");
  const sym = document.createElement("span");
  sym.className = "gm-sym " + kind;
  const size = kind === "gm-hub" ? HUB_SIZE : kind === "gm-site" ? SITE_SIZE : parseInt(vars && vars["--gm-d"], 10) || 16;
  sym.style.width = sym.style.height = size + "px";
  Object.keys(vars || {}).forEach((k) => sym.style.setProperty(k, vars[k]));
  if (badge) sym.appendChild(document.createElement("span")).className = "gm-badge";
  if (badge) sym.lastChild.textContent = badge;
  box.appendChild(sym);
  return box;
}

/* The legend: the symbols exactly as the map draws them (symbols.js), what colour means (the
 * type of agreement, for discs and lines alike) and what size means (the number of
 * agreements). Folded behind a button on a narrow map, open on a wide one. */

/* global L */

import { colorOf, discSize, swatch } from "./symbols.js";
import { el } from "./text.js";

let serial = 0;

function row(symbol, text) {
  const li = el("li");
  li.appendChild(symbol);
  li.appendChild(el("span", "gm-legend-text", text));
  return li;
}

function lineSample(color, dashed) {
  const line = el("span", "gm-line-sample" + (dashed ? " gm-dashed" : ""));
  line.setAttribute("aria-hidden", "true");
  line.style.setProperty("--gm-stroke", color);
  return line;
}

export function createLegend(map, data) {
  const L_ = data.labels;
  const control = L.control({ position: "topright" });
  control.onAdd = function () {
    const id = "gm-legend-body-" + (++serial);
    const box = el("section", "gm-legend leaflet-control");
    box.setAttribute("aria-label", L_.legend);
    const toggle = el("button", "gm-legend-toggle", L_.legend);
    toggle.type = "button";
    toggle.setAttribute("aria-controls", id);
    const body = el("div", "gm-legend-body");
    body.id = id;

    const places = el("ul", "gm-legend-list");
    places.appendChild(row(swatch("gm-hub"), data.hub ? data.hub.name : ""));
    places.appendChild(row(swatch("gm-site"), L_.shanghai_site));
    const d = discSize(2);
    places.appendChild(row(swatch("gm-marker gm-stack", { "--gm-d": d + "px", "--gm-fill": "#5b6470" }, "2"), L_.legend_stack));
    body.appendChild(places);

    body.appendChild(el("h3", "gm-legend-head", L_.legend_colour));
    const fams = el("ul", "gm-legend-list");
    L_.families.forEach((f) => {
      const li = row(swatch("gm-marker", { "--gm-d": "14px", "--gm-fill": f.color }), f.label);
      li.insertBefore(lineSample(f.color, f.key === "forum"), li.lastChild);
      fams.appendChild(li);
    });
    body.appendChild(fams);
    const mixed = L_.families.slice(0, 2).map((f) => f.color);
    fams.appendChild(row(swatch("gm-marker", {
      "--gm-d": "14px", "--gm-fill": "conic-gradient(" + mixed[0] + " 0 50%," + mixed[1] + " 50% 100%)",
    }), L_.legend_mixed));

    body.appendChild(el("h3", "gm-legend-head", L_.legend_size));
    const sizes = el("ul", "gm-legend-sizes");
    const maxN = data.partners.reduce((m, p) => Math.max(m, p.n || 0), 1);
    const values = [1, Math.round(Math.sqrt(maxN) * 1.5), maxN].filter((v, i, a) => v >= 1 && a.indexOf(v) === i && v <= maxN);
    values.forEach((n) => {
      const li = el("li");
      li.appendChild(swatch("gm-marker", { "--gm-d": discSize(n) + "px", "--gm-fill": colorOf(L_.families, "agreement") }));
      li.appendChild(el("span", "gm-legend-text", String(n)));
      sizes.appendChild(li);
    });
    body.appendChild(sizes);

    box.appendChild(toggle);
    box.appendChild(body);
    const narrow = map.getSize().x < 600;
    function set(open) {
      toggle.setAttribute("aria-expanded", String(open));
      box.classList.toggle("gm-legend-open", open);
      map.fire("gm:legend");
    }
    toggle.addEventListener("click", () => set(toggle.getAttribute("aria-expanded") !== "true"));
    set(!narrow);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  return control;
}


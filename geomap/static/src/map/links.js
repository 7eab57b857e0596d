/* The lines from Shanghai-side sites to partners: one canvas path per agreement family (one
 * layer however many links), in the family's colour, never interactive so they never take a
 * click meant for a marker. Masking years rebuilds the paths' point lists in one pass. A
 * partner whose details are open gets its own links drawn on top, the others dimmed. */

/* global L */

const MANY = 1000;  // past this many links: hairlines without dashes (faster, clearer in the mass)

export function createLinks(map, data, idx) {
  const families = data.labels.families;
  let count = 0;
  data.agreements.forEach((a) => { count += a.p.length * Math.max(a.s.length, 1); });
  const many = count > MANY;

  function style(fam, strong) {
    return {
      interactive: false, color: fam.color, weight: strong ? 4 : many ? 1 : 2,
      opacity: strong ? 0.95 : 0.6, className: "gm-link gm-link-" + fam.key,
      dashArray: fam.key === "forum" && (strong || !many) ? "4 6" : null,
    };
  }

  const paths = families.map((fam) => L.polyline([], style(fam, false)));
  const layer = L.layerGroup(paths);
  let highlight = null;

  function segmentsOf(ai) {
    const a = data.agreements[ai];
    const out = [];
    a.s.forEach((si) => {
      const site = data.sites[si];
      if (site) a.p.forEach((pi) => out.push([site.ll, data.partners[pi].ll]));
    });
    return out;
  }

  function update() {
    const lists = families.map(() => []);
    data.agreements.forEach((a, ai) => {
      if (!idx.visible[ai]) return;
      const list = lists[idx.fam[ai]];
      segmentsOf(ai).forEach((seg) => list.push(seg));
    });
    paths.forEach((path, f) => path.setLatLngs(lists[f]));
  }

  function highlightPartner(pi) {
    unhighlight();
    if (pi === null || pi === undefined) return;
    const strong = [];
    idx.agreementsOf[pi].forEach((ai) => {
      if (!idx.visible[ai]) return;
      const a = data.agreements[ai];
      a.s.forEach((si) => {
        const site = data.sites[si];
        if (site) strong.push(L.polyline([site.ll, data.partners[pi].ll], style(families[idx.fam[ai]], true)));
      });
    });
    paths.forEach((p) => p.setStyle({ opacity: 0.18 }));
    highlight = L.layerGroup(strong).addTo(map);
  }

  function unhighlight() {
    if (highlight) map.removeLayer(highlight);
    highlight = null;
    paths.forEach((p) => p.setStyle({ opacity: 0.6 }));
  }

  update();
  return {
    layer: layer, paths: paths, count: count, many: many, update: update,
    highlight: highlightPartner, unhighlight: unhighlight,
    remove: () => { unhighlight(); map.removeLayer(layer); },
  };
}

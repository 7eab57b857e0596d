/* Loading the map's data: the JSON elements of the page, a large map's columns from
 * /api/map.json, a popup's agreements from /api/map/<partner>.json, and the indexes the
 * drawing needs (which agreements each partner has, each agreement's years as typed arrays,
 * so a timeline can mask years in one pass over 10,000 agreements). */

export function readJSON(id, root) {
  const node = (root || document).getElementById(id);
  if (!node) return null;
  return JSON.parse(node.textContent || "null");
}

function getJSON(url) {
  return fetch(url, { credentials: "same-origin" }).then((r) => {
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  });
}

export function fetchData(settings) {
  return getJSON(settings.dataUrl).then((d) => expand(d, settings));
}

// payload.compact's columns back into the shape payload.build gives.
// compact-1 rows: [family, site, partner...]; compact-2: [family, [site...], year, last year,
// status, partner...].
export function expand(d, settings) {
  const P = d.partners;
  const fb = {};
  P.fb.forEach((i) => { fb[i] = true; });
  const partners = P.id.map((id, i) => ({
    id: id, name: P.name[i], fb: !!fb[i], ll: [P.lat[i], P.lon[i]], kind: d.kinds[P.kind[i]],
    rank: P.rank ? P.rank[i] : 9, n: P.n[i],
    url: d.url ? d.url.split("{id}").join(encodeURIComponent(id)) : null,
  }));
  const v2 = d.format !== "compact-1";
  const statuses = d.statuses || [];
  const agreements = d.agreements.map((row) => v2
    ? { fam: d.fams[row[0]], s: row[1], years: [row[2], row[3]], status: statuses[row[4]], p: row.slice(5) }
    : { fam: d.fams[row[0]], s: row[1], p: row.slice(2) });
  let focus = null;
  partners.forEach((p, i) => { if (p.id === settings.focus) focus = i; });
  return {
    lang: d.lang, center: d.center, hub: d.hub, partners: partners, sites: d.sites,
    agreements: agreements, labels: d.labels, focus: focus, popup: !!settings.popup,
    sorted: true, lazy: true, popupUrl: settings.popupUrl, loaded: {},
  };
}

function yearOf(a) {
  return a.iso ? parseInt(a.iso.slice(0, 4), 10) : 0;
}

// The indexes every part of the drawing shares, made once per data set.
export function index(data) {
  const n = data.agreements.length;
  const y0 = new Int16Array(n);
  const y1 = new Int16Array(n);
  const fam = new Uint8Array(n);
  const families = data.labels.families.map((f) => f.key);
  const famIndex = {};
  families.forEach((f, i) => { famIndex[f] = i; });
  const agreementsOf = data.partners.map(() => []);
  const agreementsAt = data.sites.map(() => []);
  data.agreements.forEach((a, ai) => {
    // The payload's `s` became a list of sites; a bare number still means one site.
    a.s = Array.isArray(a.s) ? a.s : (a.s === null || a.s === undefined ? [] : [a.s]);
    const years = a.years || [yearOf(a), yearOf(a)];
    y0[ai] = years[0] || 0;
    y1[ai] = years[1] || years[0] || 0;
    fam[ai] = famIndex[a.fam] || 0;
    a.p.forEach((pi) => agreementsOf[pi].push(ai));
    a.s.forEach((si) => { if (agreementsAt[si]) agreementsAt[si].push(ai); });
  });
  if (!data.sorted) {  // newest first inside each partner's details (compact data comes sorted)
    agreementsOf.forEach((list) => list.sort((x, y) =>
      (data.agreements[y].iso || "").localeCompare(data.agreements[x].iso || "")));
  }
  let hub = -1;
  const hubId = data.hub && data.hub.id;
  data.sites.forEach((s, i) => { if (s.id === hubId) hub = i; });
  return {
    y0: y0, y1: y1, fam: fam, families: families, agreementsOf: agreementsOf,
    agreementsAt: agreementsAt, hubSite: hub, visible: new Uint8Array(n).fill(1),
  };
}

// Which agreements show for a year range (null: all): one pass over typed arrays, then the
// counts (recount).
export function mask(data, idx, range) {
  const n = data.agreements.length;
  const visible = idx.visible;
  const from = range && range[0] !== null && range[0] !== undefined ? range[0] : -32768;
  const to = range && range[1] !== null && range[1] !== undefined ? range[1] : 32767;
  for (let i = 0; i < n; i++) visible[i] = idx.y1[i] >= from && idx.y0[i] <= to ? 1 : 0;
  return recount(data, idx);
}

// Exactly these agreements (indices into data.agreements) show.
export function maskList(data, idx, list) {
  idx.visible.fill(0);
  list.forEach((i) => { if (i >= 0 && i < idx.visible.length) idx.visible[i] = 1; });
  return recount(data, idx);
}

// The per-partner and per-site counts by family that markers and links are drawn from.
function recount(data, idx) {
  const visible = idx.visible;
  const nf = idx.families.length;
  const partnerFams = new Uint32Array(data.partners.length * nf);
  const siteCounts = new Uint32Array(data.sites.length);
  data.agreements.forEach((a, ai) => {
    if (!visible[ai]) return;
    const f = idx.fam[ai];
    for (let k = 0; k < a.p.length; k++) partnerFams[a.p[k] * nf + f]++;
    for (let k = 0; k < a.s.length; k++) siteCounts[a.s[k]]++;
  });
  // The partners whose counts changed: only their symbols are redrawn (all of them the first time).
  const prev = idx.partnerFams;
  const changed = [];
  for (let pi = 0; pi < data.partners.length; pi++) {
    if (!prev) { changed.push(pi); continue; }
    for (let f = pi * nf, end = f + nf; f < end; f++) {
      if (prev[f] !== partnerFams[f]) { changed.push(pi); break; }
    }
  }
  idx.partnerFams = partnerFams;
  idx.changedPartners = changed;
  idx.siteCounts = siteCounts;
  return idx;
}

export function familyCounts(idx, pi) {
  const nf = idx.families.length;
  return Array.prototype.slice.call(idx.partnerFams, pi * nf, pi * nf + nf);
}

// A large map's page carries no agreement details: a partner's are fetched on first open.
export function partnerAgreements(data, pi) {
  const p = data.partners[pi];
  if (data.loaded[p.id]) return Promise.resolve(data.loaded[p.id]);
  return getJSON(data.popupUrl.split("{id}").join(encodeURIComponent(p.id))).then((d) => {
    data.loaded[p.id] = d.agreements;
    return d.agreements;
  });
}

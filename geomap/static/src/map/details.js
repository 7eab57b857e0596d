/* What a partner's or a site's details say: its name, kind and count, then each agreement
 * (title, date, type, parties, sectors, amount, Shanghai-side sites, summary, sources), newest
 * first, or for a site the partners it links to. Built as DOM nodes from text; popup.js decides
 * where they show. */

import { partnerAgreements } from "./data.js";
import { countText, el, fallbackMark, nameNode } from "./text.js";

function agreementItem(data, a) {
  const L_ = data.labels;
  const sep = L_.list_separator || "; ";
  const li = el("li", "gm-agreement gm-fam-" + a.fam);
  li.appendChild(nameNode("h3", "gm-title", a.title, a.tfb, L_));
  const meta = el("p", "gm-meta");
  const date = el("time", "gm-date", a.date);
  if (a.iso) date.setAttribute("datetime", a.iso);
  if (a.note) date.title = a.note;
  meta.appendChild(date);
  meta.appendChild(document.createTextNode(" · "));
  meta.appendChild(el("span", "gm-type", a.type));
  li.appendChild(meta);

  const dl = el("dl", "gm-facts");
  function fact(label, value) {
    if (!value || (Array.isArray(value) && !value.length)) return;
    dl.appendChild(el("dt", null, label));
    dl.appendChild(el("dd", null, Array.isArray(value) ? value.join(sep) : value));
  }
  fact(L_.parties, a.parties);
  fact(L_.sectors, a.sectors);
  fact(L_.amount, a.amount);
  const sites = a.site || (Array.isArray(a.s) ? a.s : [a.s])
    .map((si) => data.sites[si] && data.sites[si].name).filter(Boolean).join(sep);
  fact(L_.shanghai_site, sites);
  if (dl.firstChild) li.appendChild(dl);

  if (a.summary) li.appendChild(nameNode("p", "gm-summary", a.summary, a.sfb, L_));

  if (a.sources && a.sources.length) {
    const src = el("p", "gm-sources");
    src.appendChild(el("span", "gm-label-text", L_.sources + (L_.label_separator || ": ")));
    a.sources.forEach((s, i) => {
      if (i) src.appendChild(document.createTextNode(sep));
      const text = s.publisher ? s.title + " (" + s.publisher + ")" : s.title;
      const url = typeof s.url === "string" && /^https?:\/\//i.test(s.url) ? s.url : null;
      let node;
      if (url) {
        node = el("a", null, text);
        node.href = url;
        node.target = "_blank";
        node.rel = "noopener noreferrer";
      } else {
        node = el("cite", null, text);
      }
      if (s.tfb) node.appendChild(fallbackMark(L_));
      src.appendChild(node);
    });
    li.appendChild(src);
  }
  return li;
}

function inRange(a, range) {
  if (!range) return true;
  const first = a.years ? a.years[0] : parseInt(String(a.iso).slice(0, 4), 10);
  const last = a.years ? a.years[1] : first;
  return !((range[0] !== null && last < range[0]) || (range[1] !== null && first > range[1]));
}

function moreLink(text, url) {
  const more = el("a", "gm-more", text + " →");
  more.href = url;
  if (window.top !== window.self) more.target = "_blank";
  return more;
}

// A partner's details. `list`: its agreement indices shown now; a large map fetches their text.
// `range`: the years shown ([from, to] or null), for a large map's fetched agreements.
export function partnerDetails(data, pi, list, onLoaded, range) {
  const L_ = data.labels;
  const p = data.partners[pi];
  const body = el("div", "gm-details-body");
  body.appendChild(el("p", "gm-kind", p.kind + " · " + countText(L_, list.length)));
  const ol = el("ol", "gm-agreements");
  body.appendChild(ol);
  if (data.lazy) {
    ol.setAttribute("aria-busy", "true");
    const wanted = {};
    list.forEach((ai) => { wanted[ai] = true; });
    partnerAgreements(data, pi).then((items) => {
      ol.removeAttribute("aria-busy");
      items.filter((a) => inRange(a, range)).forEach((a) => ol.appendChild(agreementItem(data, a)));
      if (onLoaded) onLoaded();
    }, (e) => {
      ol.removeAttribute("aria-busy");
      ol.appendChild(el("li", "gm-error", (L_.load_error || "") + " " + String(e && e.message || e)));
    });
  } else {
    list.forEach((ai) => ol.appendChild(agreementItem(data, data.agreements[ai])));
  }
  if (p.url) body.appendChild(moreLink(L_.more, p.url));  // a standalone file may have no site to link to
  return { title: p.name, fb: p.fb, body: body, key: "partner:" + p.id, id: p.id };
}

// A Shanghai-side site's details: the partners its agreements link it to, each a button that
// opens that partner's details, and the site's own page.
export function siteDetails(data, idx, si, openPartner) {
  const L_ = data.labels;
  const s = data.sites[si];
  const body = el("div", "gm-details-body");
  const counts = {};
  idx.agreementsAt[si].forEach((ai) => {
    if (!idx.visible[ai]) return;
    data.agreements[ai].p.forEach((pi) => { counts[pi] = (counts[pi] || 0) + 1; });
  });
  const partners = Object.keys(counts).map(Number)
    .sort((a, b) => counts[b] - counts[a] || (data.partners[a].name < data.partners[b].name ? -1 : 1));
  body.appendChild(el("p", "gm-kind", L_.shanghai_site + " · " + countText(L_, idx.siteCounts[si])));
  if (partners.length) {
    body.appendChild(el("h3", "gm-subhead", L_.partners));
    const ul = el("ul", "gm-partner-list");
    partners.forEach((pi) => {
      const li = el("li");
      const b = el("button", "gm-partner-button");
      b.type = "button";
      b.appendChild(nameNode("span", null, data.partners[pi].name, data.partners[pi].fb, L_));
      b.appendChild(el("span", "gm-count", countText(L_, counts[pi])));
      b.addEventListener("click", () => openPartner(pi));
      li.appendChild(b);
      ul.appendChild(li);
    });
    body.appendChild(ul);
  }
  if (s.url) body.appendChild(moreLink(L_.site_more || L_.more, s.url));
  return { title: s.name, fb: s.fb, body: body, key: "site:" + s.id, id: s.id };
}

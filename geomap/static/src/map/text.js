/* Shared text helpers. Every data value enters the page through these, as text nodes, never
 * as HTML; only http(s) URLs become links. */

export function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function safeUrl(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
}

// A gettext template's "%(name)s" placeholders, filled with plain values.
export function fill(template, values) {
  return String(template || "").replace(/%\((\w+)\)s/g, (all, key) =>
    (values && key in values ? String(values[key]) : all));
}

export function countText(labels, n) {
  return n === 1 ? labels.agreements_one : fill(labels.agreements_many, { n: n });
}

// "Prefecture-level city" in the middle of an English sentence: "prefecture-level city".
export function midSentence(lang, text) {
  return lang === "en" && text ? text.charAt(0).toLowerCase() + text.slice(1) : text || "";
}

export function fallbackMark(labels) {
  const mark = el("span", "gm-fallback", labels.fallback);
  mark.setAttribute("lang", "en");
  return mark;
}

// A name that may be English on a Chinese page: marked, so it is read and shown as such.
export function nameNode(tag, cls, name, fallback, labels) {
  const node = el(tag, cls, name);
  if (fallback) {
    node.setAttribute("lang", "en");
    node.appendChild(fallbackMark(labels));
  }
  return node;
}

export function emit(name, detail) {
  document.dispatchEvent(new CustomEvent(name, { detail: detail }));
}

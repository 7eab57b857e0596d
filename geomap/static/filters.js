/* geomap filters.js: the map page's filters apply in place.
 *
 * Without this script the form is a plain GET to the same page. With it, a change fetches
 * exactly the URL the form would submit (empty fields left out), takes from the answer the
 * page's regions (elements with data-gm-region, matched by id: the count, the list, the
 * downloads, the language switch) and the map's JSON (the script[type="application/json"]
 * elements of #gm-map), swaps them in, and gives the map its new data with
 * window.geomapView.setData(data, settings), which keeps the map's view. Filtering stays on
 * the server (select() is its only path); this script only moves its answer into the page.
 *
 * The address follows (history.pushState), so the view can be shared; Back and Forward load
 * the state their address names and set the form to it. A search or a year typed is applied
 * as the visitor pauses, in one history entry per field. A malformed filter gets the server's
 * 400 message next to the form. The base map (tiles) reloads the page: it changes the datum.
 *
 * For other scripts (the timeline, the map's "clear the filters"):
 *   window.geomapPage.go(url) -> Promise: show the state that URL names, in place, as a new
 *       history entry, with the form set to it (also as window.geomapFilter.go)
 *   window.geomapPage.apply(url, {history: "push" | "replace" | "none", sync: bool}) -> Promise
 *   window.geomapPage.formUrl() -> the URL the form stands for now
 * Links a.gm-reset and a[data-gm-clear] clear the filters in place, and the panel's chart bars
 * (a.gm-chart-hit) filter in place.
 *   document event "geomap:filtered", detail {url, count}: after each state is shown
 */
(function () {
  "use strict";
  var form = document.getElementById("gm-filters");
  if (!form || !window.fetch || !window.DOMParser || !window.history || !history.pushState) return;
  var status = document.getElementById("gm-status");
  var formError = document.getElementById("gm-form-error");
  var RELOAD = ["tiles"];
  var DEBOUNCE = 450;

  var shown = location.href;   // the state on screen
  var wanted = location.href;  // the latest state asked for
  var seq = 0;
  var controller = null;
  var timer = null;
  var typing = null;           // the field whose typing already made a history entry

  function formUrl() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      value = String(value).trim();
      if (value !== "") params.append(name, value);
    });
    var query = params.toString();
    return form.action.split("?")[0].split("#")[0] + (query ? "?" + query : "");
  }

  function announce(text) {
    if (!status) return;
    status.textContent = "";
    // A new text node after a tick: screen readers announce even an unchanged count.
    setTimeout(function () { status.textContent = text; }, 50);
  }

  function showError(doc, code) {
    var message = doc.querySelector(".error-message");
    var text = message ? message.textContent.trim() : "HTTP " + code;
    if (formError) formError.textContent = text;
    announce(text);
  }

  function mapJson(doc) {
    var wrap = doc.getElementById("gm-map");
    if (!wrap) return null;
    var out = { data: undefined, settings: undefined };
    var nodes = wrap.querySelectorAll('script[type="application/json"]');
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var value = JSON.parse(node.textContent);
      if (/settings$/.test(node.id)) out.settings = value;
      else if (/data$/.test(node.id)) out.data = value;
    }
    return out.data === undefined ? null : { data: out.data, settings: out.settings, nodes: nodes };
  }

  function syncForm(doc) {
    var fresh = doc.getElementById("gm-filters");
    if (!fresh) return;
    for (var i = 0; i < form.elements.length; i++) {
      var field = form.elements[i];
      if (!field.name || !field.id) continue;
      var other = doc.getElementById(field.id);
      if (!other) continue;
      if (field.type === "checkbox" || field.type === "radio") field.checked = other.hasAttribute("checked");
      else if (field.tagName === "SELECT") {
        var selected = other.querySelector("option[selected]");
        field.value = selected ? selected.value : "";
      } else field.value = other.getAttribute("value") || "";
    }
  }

  function show(doc, url, how, sync) {
    var view = window.geomapView;
    var json = mapJson(doc);
    if (!json || !view || typeof view.setData !== "function") {
      location.assign(url);  // a map that cannot take new data: the plain way
      return;
    }
    var regions = document.querySelectorAll("[data-gm-region]");
    for (var i = 0; i < regions.length; i++) {
      var fresh = doc.getElementById(regions[i].id);
      if (fresh) regions[i].replaceWith(document.importNode(fresh, true));
    }
    for (var j = 0; j < json.nodes.length; j++) {
      var mine = document.getElementById(json.nodes[j].id);
      if (mine) mine.textContent = json.nodes[j].textContent;
    }
    if (formError) formError.textContent = "";
    if (sync) syncForm(doc);
    view.setData(json.data, json.settings);
    if (how === "push") history.pushState({ geomap: 1 }, "", url);
    else if (how === "replace") history.replaceState({ geomap: 1 }, "", url);
    shown = url;
    if (doc.title) document.title = doc.title;
    var count = document.getElementById("gm-count");
    var text = count ? count.textContent.replace(/\s+/g, " ").trim() : "";
    announce(text);
    document.dispatchEvent(new CustomEvent("geomap:filtered", { detail: { url: url, count: text } }));
  }

  // options.history: "push" (default), "replace" or "none"; options.sync: set the form to the
  // state fetched (for a state that did not come from the form: Back, a chart, the timeline).
  function apply(url, options) {
    var how = (options && options.history) || "push";
    var sync = !!(options && options.sync) || how === "none";
    var mine = ++seq;
    wanted = url;
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    body().classList.add("gm-busy");
    body().setAttribute("aria-busy", "true");
    return fetch(url, {
      credentials: "same-origin", headers: { Accept: "text/html" },
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.text().then(function (text) {
        if (mine !== seq) return;
        var doc = new DOMParser().parseFromString(text, "text/html");
        if (!response.ok) { wanted = shown; showError(doc, response.status); return; }
        show(doc, url, how, sync);
      });
    }).catch(function (error) {
      if (error && error.name === "AbortError") return;
      if (mine === seq) location.assign(url);
    }).then(function () {
      if (mine !== seq) return;
      body().classList.remove("gm-busy");
      body().removeAttribute("aria-busy");
    });
  }

  function body() { return document.body; }

  function applyForm(how) {
    clearTimeout(timer);
    var url = formUrl();
    if (url === wanted) return;
    apply(url, { history: how || "push" });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!form.reportValidity()) return;
    typing = null;
    applyForm("push");
  });

  form.addEventListener("change", function (event) {
    var field = event.target;
    if (RELOAD.indexOf(field.name) >= 0) { location.assign(formUrl()); return; }
    if (!form.checkValidity()) return;
    // The end of typing in a field: its entry is made; the next field makes its own.
    var how = typing === field ? "replace" : "push";
    typing = null;
    applyForm(how);
  });

  form.addEventListener("input", function (event) {
    var field = event.target;
    if (field.tagName !== "INPUT" || event.isComposing) return;
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (!form.checkValidity()) return;
      var how = typing === field ? "replace" : "push";
      typing = field;
      applyForm(how);
    }, DEBOUNCE);
  });

  // "Clear filters" (the panel's, the empty list's, the map's own): every filter off, in place.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.gm-reset, a[data-gm-clear]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    for (var i = 0; i < form.elements.length; i++) {
      var field = form.elements[i];
      if (field.type === "hidden" || !field.name || RELOAD.indexOf(field.name) >= 0) continue;
      if (field.tagName === "SELECT") field.value = ""; else if (field.type !== "submit") field.value = "";
    }
    typing = null;
    applyForm("push");
  });

  // The panel's charts: a bar filters by its value, in place.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("#gm-panel a.gm-chart-hit");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    typing = null;
    apply(link.href, { history: "push", sync: true });
  });

  window.addEventListener("popstate", function () {
    if (location.href === shown) return;
    typing = null;
    apply(location.href, { history: "none" });
  });

  // go(url): another part of the page (the timeline) moves to a state it names.
  function go(url) {
    typing = null;
    return apply(new URL(url, location.href).href, { history: "push", sync: true });
  }

  window.geomapPage = window.geomapFilter = { apply: apply, go: go, formUrl: formUrl };
})();

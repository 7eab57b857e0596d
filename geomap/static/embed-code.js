/* geomap embed-code.js: the snippet builder (/embed/code). The snippet and the preview follow
 * the form as it changes, built exactly as the server builds them: the same template (the
 * page's #gm-code-template JSON), the same canonical order and encoding of the options. */
(function () {
  "use strict";
  var form = document.getElementById("gm-code-form");
  var out = document.getElementById("gm-snippet");
  var preview = document.getElementById("gm-preview");
  var copy = document.getElementById("gm-copy");
  var status = document.getElementById("gm-copy-status");
  if (!form || !out) return;
  var T = JSON.parse(document.getElementById("gm-code-template").textContent);

  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&#34;").replace(/'/g, "&#39;");
  }
  // Python's urllib.parse.quote_plus: unreserved characters kept, spaces as "+".
  function enc(s) {
    return encodeURIComponent(s).replace(/[!'()*]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    }).replace(/%20/g, "+");
  }

  function state() {
    var data = new FormData(form);
    var values = {};
    T.order.forEach(function (name) {
      var v = data.getAll(name).map(function (x) { return String(x).split(/\s+/).join(" ").trim(); })
        .filter(function (x) { return x !== ""; });
      if (T.integers.indexOf(name) >= 0) v = v.map(function (x) { return String(parseInt(x, 10)); });
      if (v.length) values[name] = v;
    });
    values.height = values.height || [String(T.height)];
    return { values: values, resize: data.get("resize") === "1" };
  }

  function query(values) {
    var pairs = [];
    T.order.forEach(function (name) {
      (values[name] || []).forEach(function (v) { pairs.push(enc(name) + "=" + enc(v)); });
    });
    return pairs.length ? "?" + pairs.join("&") : "";
  }

  function render() {
    if (!form.checkValidity()) {
      status.textContent = copy.getAttribute("data-invalid");
      return;
    }
    status.textContent = "";
    var s = state();
    var q = query(s.values);
    var src = T.embed + q;
    var lang = (s.values.lang || [""])[0];
    var height = s.values.height[0];
    var code = T.iframe.replace("__SRC__", esc(src)).replace("__TITLE__", esc(T.titles[lang] || T.titles[""]))
      .replace("__HEIGHT__", esc(height));
    if (s.resize) code += "\n" + T.script;
    out.value = code;
    if (preview.getAttribute("src") !== T.path + q) {
      preview.setAttribute("height", height);
      preview.style.height = height + "px";
      preview.setAttribute("src", T.path + q);
    }
    // The page's own address follows, so it can be bookmarked or shared.
    var own = new URLSearchParams(new FormData(form));
    Array.from(own.keys()).forEach(function (k) { if (!own.get(k)) own.delete(k); });
    var text = own.toString();
    history.replaceState(null, "", window.location.pathname + (text ? "?" + text : ""));
  }

  var timer = null;
  function later() { clearTimeout(timer); timer = setTimeout(render, 250); }
  form.addEventListener("change", render);
  form.addEventListener("input", later);
  form.addEventListener("submit", function (event) { event.preventDefault(); render(); });

  function copied(ok) {
    status.textContent = copy.getAttribute(ok ? "data-copied" : "data-manual");
  }
  function fallback() {
    out.focus();
    out.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    copied(ok);
  }
  copy.addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(out.value).then(function () { copied(true); }, fallback);
    } else {
      fallback();
    }
  });
})();

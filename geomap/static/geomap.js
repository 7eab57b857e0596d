/* geomap: draws partners, their links to Shanghai and the legend on a Leaflet map.
 *
 * Every data value reaches the page as text (textContent, DOM nodes), never as HTML, and
 * only http(s) URLs become links: data can never run as code here. Lines are not
 * interactive, so they never take a click meant for a marker. Popups are built on click.
 */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  function fallbackMark(labels) {
    var mark = el("span", "gm-fallback", labels.fallback);
    mark.setAttribute("lang", "en");
    return mark;
  }

  function colorOf(data, fam) {
    for (var i = 0; i < data.labels.families.length; i++) {
      if (data.labels.families[i].key === fam) return data.labels.families[i].color;
    }
    return "#555";
  }

  function agreementItem(data, a) {
    var L = data.labels;
    var li = el("li", "gm-agreement gm-fam-" + a.fam);
    var title = el("h4", "gm-title", a.title);
    if (a.tfb) { title.setAttribute("lang", "en"); title.appendChild(fallbackMark(L)); }
    li.appendChild(title);
    var meta = el("p", "gm-meta");
    var date = el("time", "gm-date", a.date);
    date.setAttribute("datetime", a.iso);
    if (a.note) date.title = a.note;
    meta.appendChild(date);
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(el("span", "gm-type", a.type));
    li.appendChild(meta);

    var dl = el("dl", "gm-facts");
    function fact(label, value) {
      if (!value || (value.join && !value.length)) return;
      dl.appendChild(el("dt", null, label));
      dl.appendChild(el("dd", null, value.join ? value.join(L.list_separator || "; ") : value));
    }
    fact(L.parties, a.parties);
    fact(L.sectors, a.sectors);
    fact(L.amount, a.amount);
    fact(L.shanghai_site, data.sites[a.s] && data.sites[a.s].name);
    li.appendChild(dl);

    var summary = el("p", "gm-summary", a.summary);
    if (a.sfb) { summary.setAttribute("lang", "en"); summary.appendChild(fallbackMark(L)); }
    li.appendChild(summary);

    if (a.sources && a.sources.length) {
      var src = el("p", "gm-sources");
      src.appendChild(el("span", "gm-label", L.sources + (L.label_separator || ": ")));
      a.sources.forEach(function (s, i) {
        if (i) src.appendChild(document.createTextNode(L.list_separator || "; "));
        var text = s.publisher ? s.title + " (" + s.publisher + ")" : s.title;
        var url = safeUrl(s.url);
        if (url) {
          var link = el("a", null, text);
          link.href = url;
          link.target = "_blank";
          link.rel = "noopener noreferrer";
          src.appendChild(link);
        } else {
          src.appendChild(el("cite", null, text));
        }
      });
      li.appendChild(src);
    }
    return li;
  }

  function partnerPopup(data, index, agreementsOf) {
    var p = data.partners[index];
    var L = data.labels;
    var box = el("div", "gm-popup");
    box.setAttribute("data-partner", p.id);
    var head = el("h3", "gm-partner-name", p.name);
    if (p.fb) head.appendChild(fallbackMark(L));
    box.appendChild(head);
    var list = agreementsOf[index] || [];
    box.appendChild(el("p", "gm-kind", p.kind + " · " +
      (list.length === 1 ? L.agreements_one : L.agreements_many.replace("%(n)s", list.length))));
    var ol = el("ol", "gm-agreements" + (list.length > 2 ? " gm-scroll" : ""));
    list.forEach(function (ai) { ol.appendChild(agreementItem(data, data.agreements[ai])); });
    box.appendChild(ol);
    if (p.url) { // a standalone file (geomap build) may have no site to link to
      var more = el("a", "gm-more", L.more + " →");
      more.href = p.url;
      if (window.top !== window.self) more.target = "_blank";
      box.appendChild(more);
    }
    return box;
  }

  function legendControl(data) {
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      var box = el("div", "gm-legend leaflet-control");
      box.appendChild(el("strong", null, data.labels.legend));
      var ul = el("ul");
      data.labels.families.forEach(function (f) {
        var li = el("li");
        var swatch = el("span", "gm-swatch gm-fam-" + f.key);
        swatch.style.background = f.color;
        li.appendChild(swatch);
        li.appendChild(document.createTextNode(f.label));
        ul.appendChild(li);
      });
      var site = el("li");
      site.appendChild(el("span", "gm-swatch gm-site-swatch"));
      site.appendChild(document.createTextNode(data.labels.shanghai_site));
      ul.appendChild(site);
      box.appendChild(ul);
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    return control;
  }

  function draw(map, data, settings) {
    settings = settings || {};
    var agreementsOf = {};
    var linksOf = {};
    var lines = [];

    // Links first, under the markers, and never interactive.
    data.agreements.forEach(function (a, ai) {
      var site = data.sites[a.s];
      a.p.forEach(function (pi) {
        (agreementsOf[pi] = agreementsOf[pi] || []).push(ai);
        var line = L.polyline([site.ll, data.partners[pi].ll], {
          interactive: false, color: colorOf(data, a.fam), weight: 2, opacity: 0.55,
          dashArray: a.fam === "forum" ? "4 6" : null, className: "gm-link"
        });
        (linksOf[pi] = linksOf[pi] || []).push(line);
        lines.push(line);
      });
    });
    L.layerGroup(lines).addTo(map);

    // Newest first inside each popup.
    Object.keys(agreementsOf).forEach(function (k) {
      agreementsOf[k].sort(function (x, y) {
        return data.agreements[y].iso.localeCompare(data.agreements[x].iso);
      });
    });

    var markers = [];
    var layer = settings.cluster
      ? L.markerClusterGroup({ showCoverageOnHover: false, disableClusteringAtZoom: 12, chunkedLoading: true })
      : L.featureGroup();
    data.partners.forEach(function (p, i) {
      var size = Math.round(14 + 4 * Math.sqrt(p.n));
      var marker = L.marker(p.ll, {
        icon: L.divIcon({ className: "gm-marker gm-fam-" + p.fam, iconSize: [size, size] }),
        keyboard: true, riseOnHover: true, alt: p.name
      });
      marker.bindTooltip(el("span", "gm-tooltip", p.name), { direction: "top", offset: [0, -size / 2] });
      marker.bindPopup(function () { return partnerPopup(data, i, agreementsOf); },
        { maxWidth: 360, minWidth: 240, autoPanPadding: [24, 24] });
      marker.on("add", function () {
        var node = marker.getElement();
        if (!node) return;
        node.setAttribute("data-partner", p.id);
        node.setAttribute("aria-label", p.name);
        node.style.setProperty("--gm-color", colorOf(data, p.fam));
      });
      markers.push(marker);
      layer.addLayer(marker);
    });
    layer.addTo(map);

    // Shanghai-side sites: where the agreements were signed or whom they bind.
    var siteLayer = L.featureGroup();
    data.sites.forEach(function (s) {
      var m = L.marker(s.ll, {
        icon: L.divIcon({ className: "gm-site", iconSize: [14, 14] }), keyboard: true, alt: s.name
      });
      m.bindTooltip(el("span", "gm-tooltip", s.name), { direction: "top" });
      m.on("add", function () {
        var node = m.getElement();
        if (node) node.setAttribute("data-site", s.id);
      });
      siteLayer.addLayer(m);
    });
    siteLayer.addTo(map);

    if (settings.legend !== false) legendControl(data).addTo(map);

    // Shanghai at the centre, every partner in view.
    if (map.zoomControl && data.labels.zoom_in) {  // Leaflet's buttons in the page's language
      map.removeControl(map.zoomControl);
      map.zoomControl = L.control.zoom({ zoomInTitle: data.labels.zoom_in, zoomOutTitle: data.labels.zoom_out }).addTo(map);
    }
    function fitAll() {
      var c = L.latLng(data.center);
      var dLat = 0.2, dLon = 0.2;
      data.partners.forEach(function (p) {
        dLat = Math.max(dLat, Math.abs(p.ll[0] - c.lat));
        dLon = Math.max(dLon, Math.abs(p.ll[1] - c.lng));
      });
      map.fitBounds([[c.lat - dLat, c.lng - dLon], [c.lat + dLat, c.lng + dLon]], { padding: [20, 20] });
    }

    function focus(index, openPopup) {
      var p = data.partners[index];
      if (!p) return;
      lines.forEach(function (l) { l.setStyle({ opacity: 0.15, weight: 1.5 }); });
      (linksOf[index] || []).forEach(function (l) { l.setStyle({ opacity: 0.95, weight: 4 }); l.bringToFront(); });
      var pts = [p.ll];
      (agreementsOf[index] || []).forEach(function (ai) { pts.push(data.sites[data.agreements[ai].s].ll); });
      map.fitBounds(L.latLngBounds(pts).pad(0.25), { maxZoom: 10 });
      if (openPopup) {
        var marker = markers[index];
        if (settings.cluster) layer.zoomToShowLayer(marker, function () { marker.openPopup(); });
        else marker.openPopup();
      }
    }

    if (data.focus !== null && data.focus !== undefined) focus(data.focus, data.popup);
    else if (data.partners.length) fitAll();
    else map.setView(data.center, 8);

    var api = {
      map: map, markers: markers, lines: lines, data: data,
      focusPartner: function (id, openPopup) {
        for (var i = 0; i < data.partners.length; i++) {
          if (data.partners[i].id === id) { focus(i, openPopup !== false); return true; }
        }
        return false;
      }
    };
    window.geomapView = api;
    document.dispatchEvent(new CustomEvent("geomap:ready", { detail: { partners: markers.length } }));
    return api;
  }

  window.geomap = { draw: draw };
})();

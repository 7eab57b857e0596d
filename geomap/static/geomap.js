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

  // An agreement's Shanghai-side site indices: a list (a bare number in older data).
  function sitesOf(a) {
    return [].concat(a.s);
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
    fact(L.shanghai_site, a.site || sitesOf(a).map(function (i) { return data.sites[i] && data.sites[i].name; }).filter(Boolean));
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

  // A large map's page carries no agreement details: a popup fetches its partner's (once).
  function loadAgreements(data, index, ol, onLoad) {
    var p = data.partners[index];
    function fill(items) {
      items.forEach(function (a) { ol.appendChild(agreementItem(data, a)); });
      ol.removeAttribute("aria-busy");
    }
    // Loaded before: filled now. Else filled when fetched, and the popup told to update,
    // which makes its content again, from what is then loaded.
    if (data.loaded[p.id]) { fill(data.loaded[p.id]); return; }
    ol.setAttribute("aria-busy", "true");
    fetch(data.popupUrl.split("{id}").join(encodeURIComponent(p.id)), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (d) { data.loaded[p.id] = d.agreements; fill(d.agreements); if (onLoad) onLoad(); })
      .catch(function (e) {
        ol.removeAttribute("aria-busy");
        ol.appendChild(el("li", "gm-error", String(e && e.message || e)));
      });
  }

  function partnerPopup(data, index, agreementsOf, onLoad) {
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
    if (data.lazy) loadAgreements(data, index, ol, onLoad);
    else list.forEach(function (ai) { ol.appendChild(agreementItem(data, data.agreements[ai])); });
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

  // payload.compact's columns back into the shape payload.build gives.
  function expand(d, settings) {
    var P = d.partners, fb = {}, focus = null;
    P.fb.forEach(function (i) { fb[i] = true; });
    var partners = P.id.map(function (id, i) {
      if (id === settings.focus) focus = i;
      return {
        id: id, name: P.name[i], fb: !!fb[i], ll: [P.lat[i], P.lon[i]], kind: d.kinds[P.kind[i]],
        fam: d.fams[P.fam[i]], n: P.n[i], url: d.url ? d.url.split("{id}").join(encodeURIComponent(id)) : null
      };
    });
    var agreements = d.agreements.map(function (row) {
      // compact-2: [family, [site...], first year, last year, status, partner...]
      return { fam: d.fams[row[0]], s: row[1], years: [row[2], row[3]], status: d.statuses[row[4]], p: row.slice(5) };
    });
    return {
      lang: d.lang, center: d.center, partners: partners, sites: d.sites, agreements: agreements,
      labels: d.labels, focus: focus, popup: !!settings.popup,
      sorted: true, lazy: true, popupUrl: settings.popupUrl, loaded: {}
    };
  }

  // A small map comes inline; a large one (settings.dataUrl) is fetched from the cached API.
  function draw(map, data, settings) {
    settings = settings || {};
    if (data || !settings.dataUrl) return render(map, data, settings);
    var done = fetch(settings.dataUrl, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (d) { return render(map, expand(d, settings), settings); });
    done.catch(function (e) {
      map.getContainer().setAttribute("data-geomap-error", String(e && e.message || e));
      document.dispatchEvent(new CustomEvent("geomap:error", { detail: { error: String(e) } }));
      if (window.console) console.error("geomap: the map's data could not be loaded:", e);
    });
    return done;
  }

  function render(map, data, settings) {
    var agreementsOf = {};
    var linksOf = {};
    var lines = [];

    // Links first, under the markers, and never interactive. Past a thousand links: one canvas
    // path per family rather than a layer per link (~30 ms a thousand to make, more to draw),
    // hairlines without dashes (several times faster where the canvas is drawn in software, and
    // clearer in the mass), and drawn just after the markers rather than before them.
    var linkCount = 0;
    data.agreements.forEach(function (a) { linkCount += a.p.length; });
    var many = linkCount > 1000;
    function lineStyle(fam) {
      return { interactive: false, color: colorOf(data, fam), weight: many ? 1 : 2, opacity: 0.55,
               dashArray: fam === "forum" && !many ? "4 6" : null, className: "gm-link" };
    }
    var segments = {};
    data.agreements.forEach(function (a, ai) {
      a.p.forEach(function (pi) {
        (agreementsOf[pi] = agreementsOf[pi] || []).push(ai);
        sitesOf(a).forEach(function (si) {  // a link from each Shanghai-side site to each partner
          var link = { ll: [data.sites[si].ll, data.partners[pi].ll], fam: a.fam };
          if (many) (segments[a.fam] = segments[a.fam] || []).push(link.ll);
          else lines.push(link.line = L.polyline(link.ll, lineStyle(a.fam)));
          (linksOf[pi] = linksOf[pi] || []).push(link);
        });
      });
    });
    Object.keys(segments).forEach(function (fam) { lines.push(L.polyline(segments[fam], lineStyle(fam))); });
    var linkLayer = L.layerGroup(lines);
    if (!many) linkLayer.addTo(map);
    var highlight = null;  // a large map's focused links, drawn over the rest

    // Newest first inside each popup (compact data comes sorted).
    if (!data.sorted) Object.keys(agreementsOf).forEach(function (k) {
      agreementsOf[k].sort(function (x, y) {
        return data.agreements[y].iso.localeCompare(data.agreements[x].iso);
      });
    });

    var markers = [];
    var layer = settings.cluster
      ? L.markerClusterGroup({ showCoverageOnHover: false, disableClusteringAtZoom: 12, chunkedLoading: true })
      : L.featureGroup();
    // Thousands of markers: one icon object per family and size, tooltips made when shown.
    var icons = {};
    data.partners.forEach(function (p, i) {
      var size = Math.round(14 + 4 * Math.sqrt(p.n));
      var iconKey = p.fam + "/" + size;
      var icon = icons[iconKey] || (icons[iconKey] = L.divIcon({ className: "gm-marker gm-fam-" + p.fam, iconSize: [size, size] }));
      var marker = L.marker(p.ll, { icon: icon, keyboard: true, riseOnHover: true, alt: p.name });
      marker.bindTooltip(function () { return el("span", "gm-tooltip", p.name); }, { direction: "top", offset: [0, -size / 2] });
      marker.bindPopup(function () {
        return partnerPopup(data, i, agreementsOf, function () { if (marker.isPopupOpen()) marker.getPopup().update(); });
      }, { maxWidth: 360, minWidth: 240, autoPanPadding: [24, 24] });
      marker.on("add", function () {
        var node = marker.getElement();
        if (!node) return;
        node.setAttribute("data-partner", p.id);
        node.setAttribute("aria-label", p.name);
        node.style.setProperty("--gm-color", colorOf(data, p.fam));
      });
      markers.push(marker);
    });
    if (layer.addLayers) layer.addLayers(markers);
    else markers.forEach(function (m) { layer.addLayer(m); });
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
    if (map.zoomControl && data.labels.zoom_in) {  // Leaflet's buttons in the page's language
      map.removeControl(map.zoomControl);
      map.zoomControl = L.control.zoom({ zoomInTitle: data.labels.zoom_in, zoomOutTitle: data.labels.zoom_out }).addTo(map);
    }

    // Shanghai at the centre, every partner in view.
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
      if (highlight) map.removeLayer(highlight);
      if (many) {
        highlight = L.layerGroup((linksOf[index] || []).map(function (k) {
          return L.polyline(k.ll, L.extend(lineStyle(k.fam), {
            opacity: 0.95, weight: 4, dashArray: k.fam === "forum" ? "4 6" : null
          }));
        })).addTo(map);
      } else {
        (linksOf[index] || []).forEach(function (k) { k.line.setStyle({ opacity: 0.95, weight: 4 }); k.line.bringToFront(); });
      }
      var pts = [p.ll];
      (agreementsOf[index] || []).forEach(function (ai) {
        sitesOf(data.agreements[ai]).forEach(function (si) { pts.push(data.sites[si].ll); });
      });
      // Not animated: zoomToShowLayer below must start from the framed view, not race it.
      map.fitBounds(L.latLngBounds(pts).pad(0.25), { maxZoom: 10, animate: false });
      if (openPopup) {
        var marker = markers[index];
        if (settings.cluster) layer.zoomToShowLayer(marker, function () { marker.openPopup(); });
        else marker.openPopup();
      }
    }

    if (data.focus !== null && data.focus !== undefined) focus(data.focus, data.popup);
    else if (data.partners.length) fitAll();
    else map.setView(data.center, 8);
    if (many) setTimeout(function () {  // the markers are what a visitor looks for first
      linkLayer.addTo(map);
      if (highlight) highlight.remove().addTo(map);  // over the links
    }, 0);

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

/* The map's public view API, window.geomapView, for the page around the map and for tests:

 *   geomapView.setData(data, settings) -> Promise
 *       Draw new data and keep the current view (the page's in-place filtering calls it with
 *       the JSON of the #gm-map-data and #gm-map-settings elements of the page it fetched).
 *       data null with settings.dataUrl: a large map, fetched from the cached API (a loading
 *       state meanwhile, an error state with "Try again" if it fails). The first call frames
 *       the view: every partner and Shanghai, or the focused partner.
 *   geomapView.focusPartner(id, openDetails) -> bool
 *       Frame a partner and its links; openDetails (default true) opens its details with
 *       focus in them, Escape or close gives focus back to what had it.
 *   geomapView.setYearRange(from, to)   (null, null: every year)
 *       Show only the agreements whose years overlap [from, to], without refetching: one pass
 *       over typed arrays, then the markers, links and names that changed (for a timeline).
 *   geomapView.showAgreements(indices)
 *       The same for any choice of agreements (indices into data.agreements): a timeline
 *       playing month by month. setYearRange(null, null) shows all again.
 *   geomapView.closeDetails()
 *   geomapView.elementFor(id) -> the element that stands for a partner now: its marker, or
 *       the stack or cluster it is grouped in (null when it is not shown)
 *   geomapView.map, .data, .markers (partner markers, in data.partners order), .lines
 *
 * Events on document: "geomap:ready" (detail: partners, agreements, initial) after each draw;
 * "geomap:error" (detail: error) when a large map's data cannot be loaded; "geomap:details"
 * (detail: open, key, id, mode "popup" | "sheet") when details open or close. */

/* global L */

import { fetchData, index, mask, maskList } from "./data.js";
import { partnerDetails, siteDetails } from "./details.js";
import { createLabels } from "./labels.js";
import { clearSoon, framePadding } from "./insets.js";
import { createLegend } from "./legend.js";
import { createLinks } from "./links.js";
import { createMarkers } from "./markers.js";
import { createDetailsView } from "./popup.js";
import { createStates } from "./states.js";
import { emit } from "./text.js";

export function createView(map) {
  let settings = {};
  let data = null;
  let idx = null;
  let range = null;
  let links = null;
  let markers = null;
  let legend = null;
  let token = 0;
  let framed = false;
  const labels = createLabels(map);
  const states = createStates(map);
  const details = createDetailsView(map, {
    opened: (state) => {
      const pi = partnerIndex(state.content.id);
      if (state.key.indexOf("partner:") === 0 && pi >= 0) {
        links.highlight(pi);
        const node = markers.markers[pi].getElement();
        if (node) node.setAttribute("aria-expanded", "true");
      }
    },
    closed: (state) => {
      if (links) links.unhighlight();
      const node = state.source && state.source.getElement && state.source.getElement();
      if (node) node.setAttribute("aria-expanded", "false");
    },
    fallbackFocus: (state) => (state.source && markers && markers.visibleParent(state.source)) || map.getContainer(),
  });
  map.on("gm:legend", () => labels.schedule());
  // The page may resize the map (a drawer, a phone turned, a timeline shown): Leaflet only
  // watches the window. A map first drawn with no size is framed once it has one.
  let sized = map.getSize().y > 0;
  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      map.invalidateSize({ pan: false });
      if (!sized && map.getSize().y > 0 && data) {
        sized = true;
        if (data.focus !== null && data.focus !== undefined && data.partners[data.focus]) focus(data.focus, false, false);
        else fitAll();
      }
      labels.schedule();
    }).observe(map.getContainer());
  }

  function partnerIndex(id) {
    if (!data) return -1;
    for (let i = 0; i < data.partners.length; i++) if (data.partners[i].id === id) return i;
    return -1;
  }

  function stateLabels() {
    return settings.labels || {};
  }

  function clear() {
    details.close(false);
    if (links) links.remove();
    if (markers) markers.remove();
    if (legend) map.removeControl(legend);
    links = markers = legend = null;
    labels.clear();
  }

  function translateZoom(L_) {
    if (map.zoomControl && L_.zoom_in && !map.zoomControl.gmTranslated) {
      map.removeControl(map.zoomControl);
      map.zoomControl = L.control.zoom({ zoomInTitle: L_.zoom_in, zoomOutTitle: L_.zoom_out }).addTo(map);
      map.zoomControl.gmTranslated = true;
    }
  }

  function draw(d) {
    clear();
    data = d;
    idx = mask(d, index(d), range);
    links = createLinks(map, d, idx);
    markers = createMarkers(map, d, idx, settings, {
      openPartner: openPartner, openSite: openSite,
      changed: () => labels.schedule(), labelShown: (layer) => labels.isShown(layer),
    });
    // The markers are what a visitor looks for first: a large map's links follow a frame later.
    if (links.many) setTimeout(() => { if (links && links.layer) links.layer.addTo(map); }, 0);
    else links.layer.addTo(map);
    translateZoom(d.labels);
    if (d.partners.length) {
      states.hide();
      if (settings.legend !== false) legend = createLegend(map, d).addTo(map);
    } else {
      states.empty(stateLabels(), settings.clearUrl);
    }
    const initial = !framed;
    if (!framed) {
      framed = true;
      if (d.focus !== null && d.focus !== undefined && d.partners[d.focus]) focus(d.focus, d.popup, false);
      else fitAll();
    }
    labels.schedule();
    api.data = d;
    api.markers = markers.markers;
    api.lines = links.paths;
    emit("geomap:ready", { partners: d.partners.length, agreements: d.agreements.length, initial: initial });
    return api;
  }

  function fail(e) {
    const message = String(e && e.message || e);
    map.getContainer().setAttribute("data-geomap-error", message);
    states.error(stateLabels(), () => setData(null, settings));
    emit("geomap:error", { error: message });
    if (window.console) console.error("geomap: the map's data could not be loaded:", e);
  }

  function setData(newData, newSettings) {
    if (newSettings) settings = newSettings;
    const mine = ++token;
    if (!newData && settings.dataUrl) {
      details.close(false);
      states.loading(stateLabels());
      map.getContainer().removeAttribute("data-geomap-error");
      return fetchData(settings).then((d) => (mine === token ? draw(d) : api), (e) => {
        if (mine === token) fail(e);
        return api;
      });
    }
    if (!newData) newData = { partners: [], sites: [], agreements: [], labels: (data && data.labels) || {}, center: map.getCenter() };
    return Promise.resolve(draw(newData));
  }

  // Every partner and Shanghai in view, with room around them (and beside an open legend).
  function fitAll() {
    const points = [];
    data.partners.forEach((p) => points.push(p.ll));
    data.sites.forEach((s) => points.push(s.ll));
    if (data.hub) points.push(data.hub.ll);
    const size = map.getSize();
    if (!points.length) return map.setView(data.center || map.getCenter(), 8);
    const pad = Math.round(Math.max(20, Math.min(56, Math.min(size.x, size.y) * 0.08)));
    const box = legend && legend.getContainer();
    const beside = box && box.classList.contains("gm-legend-open") && size.x > 700 ? box.offsetWidth + 12 : 0;
    map.fitBounds(L.latLngBounds(points), L.extend(framePadding(map, pad, beside), { maxZoom: 11, animate: false }));
  }

  // Where a partner's Shanghai-side counterparts are.
  function sitesOf(pi) {
    const points = [];
    idx.agreementsOf[pi].forEach((ai) => data.agreements[ai].s.forEach((si) => {
      if (data.sites[si]) points.push(data.sites[si].ll);
    }));
    return points;
  }

  function focus(pi, open, keyboard) {
    const points = [data.partners[pi].ll].concat(sitesOf(pi));
    map.fitBounds(L.latLngBounds(points).pad(0.1), L.extend(framePadding(map, 24), { maxZoom: 10, animate: false }));
    links.highlight(pi);
    if (!open) clearSoon(map, null);  // a place beside the frame may lie under a control
    if (open) {
      const returnTo = document.activeElement && document.activeElement !== document.body ? document.activeElement : null;
      markers.reveal(markers.markers[pi], () => openPartner(pi, { keyboard: keyboard, returnTo: returnTo }));
    }
  }

  function openPartner(pi, opts) {
    opts = opts || {};
    const marker = markers.markers[pi];
    const list = idx.agreementsOf[pi].filter((ai) => idx.visible[ai]);
    const content = partnerDetails(data, pi, list, () => details.refresh(), range);
    details.open(content, data.labels, {
      latlng: marker.getLatLng(), offset: (marker.gm.d || 20) / 2, keyboard: opts.keyboard,
      source: marker, returnTo: opts.returnTo, keep: sitesOf(pi),
    });
  }

  function openSite(si, opts) {
    opts = opts || {};
    const marker = markers.siteMarkers[si];
    const content = siteDetails(data, idx, si, (pi) => openPartner(pi, { keyboard: true, returnTo: opts.returnTo }));
    details.open(content, data.labels, {
      latlng: marker.getLatLng(), offset: (marker.gm.d || 12) / 2, keyboard: opts.keyboard,
      source: marker, returnTo: opts.returnTo,
    });
  }

  function setYearRange(from, to) {
    range = (from === null || from === undefined) && (to === null || to === undefined) ? null : [from, to];
    if (!data) return;
    mask(data, idx, range);
    redrawMask();
  }

  function showAgreements(list) {
    if (!data) return;
    range = null;
    maskList(data, idx, list);
    redrawMask();
  }

  function redrawMask() {
    const open = details.current();
    links.update();
    markers.update();
    if (open && open.key.indexOf("partner:") === 0) {
      const pi = partnerIndex(open.content.id);
      if (pi < 0 || !markers.markers[pi].gm.n) details.close(false);
    }
    labels.schedule();
  }

  const api = {
    map: map, data: null, markers: [], lines: [],
    setData: setData,
    focusPartner: (id, openDetails) => {
      const pi = partnerIndex(id);
      if (pi < 0) return false;
      focus(pi, openDetails !== false, true);
      return true;
    },
    setYearRange: setYearRange,
    showAgreements: showAgreements,
    closeDetails: () => details.close(true),
    elementFor: (id) => {
      const pi = partnerIndex(id);
      if (pi < 0 || !markers) return null;
      const marker = markers.markers[pi];
      return marker.getElement() || markers.visibleParent(marker);
    },
  };
  return { api: api };
}

/* geomap timeline: a slider over the per-year histogram, with Play and Pause.
 *
 * The server draws the histogram (geomap/chart_svg.py) and a link over each year's bar; they
 * work without this script. This script adds two native range inputs (From year, Up to year:
 * arrows, Home, End, Page Up/Down and touch come with them) and Play/Pause, and moves the map:
 *
 * - While the visitor drags or plays, agreements are masked by year in the browser
 *   (geomapView.setYearRange) from data already loaded, in which every agreement carries its
 *   year span: no request per step. The map first holds the data of the page's other filters
 *   without a year filter (fetched once if the page came with one).
 * - When a drag is released, a key pressed, a year's bar chosen, playback paused or finished,
 *   the page goes to the URL with year_from / year_to in place (geomapPage.apply on the map
 *   page; the same swap done here in an embed), so the map, the list and the counts are then
 *   exactly what the server gives for that URL, and the URL can be shared.
 *
 * year_to alone is the cumulative view (the network as it stood), both bounds a window. Play
 * grows the network a year at a time from the first year to the last and ends on the whole of
 * it; the current year and its count are announced politely once a year. Under
 * prefers-reduced-motion each step is a plain change, with no transition, and lasts longer.
 *
 * Each step of playback is a "geomap:timeline" event on document (detail: year, month "YYYY-MM"
 * or null, count, playing); the end of playback one with year null and playing false.
 *
 * The server marks the parts it redraws for a new URL (data-gm-region: the bars, the table,
 * the count, the settings); they are looked up again after each swap.
 */
(function () {
  "use strict";

  var root = document.getElementById("gm-timeline");
  if (!root) return;
  var track = root.querySelector(".gm-tl-track");
  var fromInput = document.getElementById("gm-tl-from");
  var toInput = document.getElementById("gm-tl-to");
  var playButton = document.getElementById("gm-tl-play");
  var live = document.getElementById("gm-tl-live");
  var rangeBar = root.querySelector(".gm-tl-range");
  var sliders = root.querySelector(".gm-tl-sliders");
  var axis = Array.prototype.slice.call(root.querySelectorAll(".gm-tl-axis li"));
  var motion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };

  var STEP_MS = 1000;          // a year, while playing
  var REDUCED_STEP_MS = 1600;  // a year when the change is not animated: time to take it in
  var SETTLE_MS = 300;         // after the last key press, before asking the server
  var MONTHS_UP_TO = 6;        // data spanning at most this many years plays month by month

  var settings, first, last, F;
  function readSettings() {
    settings = JSON.parse(document.getElementById("gm-timeline-config").textContent);
    first = settings.first;
    last = settings.last;
    F = settings.formats;
  }
  readSettings();

  // null is unbounded: no year_from (from the first year), no year_to (to the last).
  var state = fromUrl(window.location.href);
  var playing = null;     // playback's timer
  var settleTimer = null;
  var focusYear = null;   // the year bar to give focus back to after the page's swap
  // The year filter of the data the map holds (from the page's URL): the mask can only show
  // what is loaded, so before moving beyond it the map is given the data without it.
  var held = { from: state.from, to: state.to };
  var base = null;        // the promise of that data, while it loads
  var pending = null;     // the URL asked of the server and not yet shown

  function fill(format, values) {
    return format.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  function yearText(y) { return fill(F.year, { y: y }); }
  function yearsText(a, b) { return a === b ? yearText(a) : fill(F.range, { a: a, b: b }); }
  var numbers = window.Intl ? new Intl.NumberFormat(document.documentElement.lang || "en") : null;
  function countText(n) {
    return n === 1 ? F.one : fill(F.many, { n: numbers ? numbers.format(n) : String(n) });
  }
  function lo() { return state.from === null ? first : Math.max(first, state.from); }
  function hi() { return state.to === null ? last : Math.min(last, state.to); }
  function normalise(from, to) {
    return {
      from: from === null || from <= first ? null : Math.min(from, last),
      to: to === null || to >= last ? null : Math.max(to, first)
    };
  }
  function fromUrl(href) {
    var params = new URL(href, window.location.href).searchParams;
    var a = params.get("year_from"), b = params.get("year_to");
    return normalise(a ? +a : null, b ? +b : null);
  }
  function view() { return window.geomapView || null; }

  // -- the map -----------------------------------------------------------------------------------

  function spanOf(a) {
    if (a.years) return a.years;
    var y = a.iso ? +a.iso.slice(0, 4) : null;
    return [y, y];
  }

  // How many agreements of the data the map holds fall in [from, to] (what the mask shows).
  function countIn(from, to) {
    var v = view();
    if (!v || !v.data) return null;
    var n = 0, list = v.data.agreements;
    for (var i = 0; i < list.length; i++) {
      var s = spanOf(list[i]);
      if ((to === null || s[0] <= to) && (from === null || s[1] >= from)) n++;
    }
    return n;
  }

  function mask() {
    var v = view();
    if (v && v.setYearRange) v.setYearRange(state.from, state.to);
    return countIn(state.from, state.to);
  }

  // While the slider is dragged, the map is masked at most once a frame, and a map that takes
  // longer than a frame to mask (thousands of partners) then gets twice the time the mask took
  // to draw it and idle (drawing the symbols, lines and names costs about as much again): the
  // slider, the chart and the text keep moving at the screen's rate while the map follows a few
  // times a second, and its last state is always the slider's.
  var maskTimer = null, maskAfter = 0;
  function maskSoon() {
    if (maskTimer !== null) return;
    maskTimer = setTimeout(function () {
      requestAnimationFrame(function () {
        maskTimer = null;
        var t0 = performance.now();
        mask();
        var cost = performance.now() - t0;
        maskAfter = performance.now() + (cost > 12 ? 2 * cost : 0);
      });
    }, Math.max(0, maskAfter - performance.now()));
  }

  // The map's data and settings in a fetched page (geomap/maps.py's fixed ids).
  function mapJson(doc) {
    var data = doc.getElementById("gm-map-data"), settings = doc.getElementById("gm-map-settings");
    if (!data) return null;
    return { data: JSON.parse(data.textContent), settings: settings ? JSON.parse(settings.textContent) : undefined };
  }

  function fetchDoc(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    }).then(function (text) { return new DOMParser().parseFromString(text, "text/html"); });
  }

  // Give the map the data of the page's filters without the year filter, masked as now.
  function ensureBase() {
    if (held.from === null && held.to === null) return Promise.resolve();
    if (base) return base;
    var url = urlFor({ from: null, to: null });
    base = fetchDoc(url).then(function (doc) {
      var json = mapJson(doc), v = view();
      if (!json || !v || !v.setData) throw new Error("no map data at " + url);
      v.setYearRange(state.from, state.to);
      return v.setData(json.data, json.settings);
    }).then(function () {
      held = { from: null, to: null };
      base = null;
      if (!pending) render(mask());
    }, function (e) {
      base = null;
      if (window.console) console.error("geomap timeline:", e);
    });
    return base;
  }

  // -- what the timeline shows -------------------------------------------------------------------

  function render(count) {
    var a = lo(), b = hi();
    fromInput.value = a;
    toInput.value = b;
    fromInput.setAttribute("aria-valuetext", yearText(a));
    toInput.setAttribute("aria-valuetext", yearText(b));
    fromInput.classList.toggle("gm-top", a >= last);  // still draggable back from the end
    var span = Math.max(last - first, 1);
    rangeBar.style.left = "calc(var(--gm-thumb) / 2 + (100% - var(--gm-thumb)) * " + ((a - first) / span) + ")";
    rangeBar.style.width = "calc((100% - var(--gm-thumb)) * " + ((b - a) / span) + ")";
    var groups = root.querySelectorAll(".gm-years-svg .gm-year");
    for (var i = 0; i < groups.length; i++) {
      var y = +groups[i].getAttribute("data-year");
      groups[i].classList.toggle("gm-out", y < a || y > b);
    }
    axis.forEach(function (li) { li.classList.toggle("gm-current", +li.getAttribute("data-year") === b); });
    var now = document.getElementById("gm-tl-now");
    if (count !== null && count !== undefined && now) {
      now.textContent = fill(F.status, { years: yearsText(a, b), count: countText(count) });
    }
    return now ? now.textContent : "";
  }

  // -- the URL and the server ----------------------------------------------------------------

  function urlFor(st) {
    var params = new URLSearchParams(window.location.search);
    params.delete("popup");
    params.delete("year_from");
    params.delete("year_to");
    var out = [];
    params.forEach(function (v, k) { out.push([k, v]); });
    // In the options' canonical order (year_from, year_to after lang and partner), as the
    // server writes its links.
    var at = 0;
    while (at < out.length && (out[at][0] === "lang" || out[at][0] === "partner")) at++;
    var years = [];
    if (st.from !== null) years.push(["year_from", String(st.from)]);
    if (st.to !== null) years.push(["year_to", String(st.to)]);
    out.splice.apply(out, [at, 0].concat(years));
    var q = new URLSearchParams();
    out.forEach(function (kv) { q.append(kv[0], kv[1]); });
    var s = q.toString();
    return window.location.pathname + (s ? "?" + s : "");
  }

  function setFormYears(st) {
    var a = document.getElementById("gm-year-from"), b = document.getElementById("gm-year-to");
    if (a) a.value = st.from === null ? "" : st.from;
    if (b) b.value = st.to === null ? "" : st.to;
  }

  // The map page: its in-place filtering. An embed: the same swap, done here.
  function go(url) {
    var page = window.geomapPage;
    if (page && page.go) return page.go(url);
    if (page && page.apply) {
      setFormYears(state);
      return page.apply(url, { history: "push" });
    }
    return fetchDoc(url).then(function (doc) {
      if (pending !== url) return;
      var json = mapJson(doc), v = view();
      if (!json || !v || !v.setData) { window.location.assign(url); return; }
      var regions = root.querySelectorAll("[data-gm-region]");
      for (var i = 0; i < regions.length; i++) {
        var fresh = doc.getElementById(regions[i].id);
        if (fresh) regions[i].replaceWith(document.importNode(fresh, true));
      }
      // An embed inside another page: no history entry for each step (Back is the host's).
      history.replaceState(history.state, "", url);
      return Promise.resolve(v.setData(json.data, json.settings)).then(function () { shown(url); });
    }).catch(function () { window.location.assign(url); });
  }

  function commit() {
    clearTimeout(settleTimer);
    settleTimer = null;
    var url = urlFor(state);
    if (url === window.location.pathname + window.location.search && !pending) return;
    pending = url;
    go(url);
  }

  function settleSoon() {
    clearTimeout(settleTimer);
    settleTimer = setTimeout(commit, SETTLE_MS);
  }

  // The page now shows a URL (ours or the form's, or Back): take its years and its parts.
  function shown(url) {
    readSettings();
    var mine = pending === url;
    pending = null;
    if (!mine && playing !== null) stopPlaying();
    state = fromUrl(url);
    held = { from: state.from, to: state.to };
    // The map holds the server's data for this URL: nothing left to mask.
    var v = view();
    if (v && v.setYearRange) v.setYearRange(null, null);
    render(null);
    if (focusYear !== null && (!document.activeElement || document.activeElement === document.body)) {
      var hit = root.querySelector('.gm-tl-hit[data-year="' + focusYear + '"]');
      if (hit) hit.focus();
    }
    focusYear = null;
    rove();
  }
  document.addEventListener("geomap:filtered", function (e) { shown(e.detail && e.detail.url || window.location.href); });

  // -- the sliders -------------------------------------------------------------------------------

  function moved(which) {
    stopPlaying();
    var a = +fromInput.value, b = +toInput.value;
    if (a > b) { if (which === "from") a = b; else b = a; }
    state = normalise(a, b);
    ensureBase();
    render(countIn(state.from, state.to));
    maskSoon();
  }
  fromInput.addEventListener("input", function () { moved("from"); });
  toInput.addEventListener("input", function () { moved("to"); });
  // "change" comes when a drag is released, and after each key press: ask the server then.
  fromInput.addEventListener("change", settleSoon);
  toInput.addEventListener("change", settleSoon);

  // -- the year bars: a click or Enter selects that year; arrows move between them ------------

  function hits() { return Array.prototype.slice.call(root.querySelectorAll(".gm-tl-hit")); }
  function rove(index) {
    var list = hits();
    if (index === undefined) {
      index = list.length - 1;
      list.forEach(function (h, i) { if (+h.getAttribute("data-year") === hi()) index = i; });
    }
    list.forEach(function (h, i) { h.tabIndex = i === index ? 0 : -1; });
  }

  track.addEventListener("click", function (event) {
    var hit = event.target.closest && event.target.closest(".gm-tl-hit");
    if (!hit || event.ctrlKey || event.metaKey || event.shiftKey || event.button) return;  // a new tab: the link
    event.preventDefault();
    stopPlaying();
    var y = +hit.getAttribute("data-year");
    focusYear = y;
    rove(hits().indexOf(hit));
    // The year shown alone already: its link shows every year again.
    if (lo() === y && hi() === y && (state.from !== null || state.to !== null)) state = { from: null, to: null };
    else state = normalise(y, y);
    ensureBase();
    render(mask());
    commit();
  });

  track.addEventListener("keydown", function (event) {
    var hit = event.target.closest && event.target.closest(".gm-tl-hit");
    if (!hit) return;
    var list = hits(), i = list.indexOf(hit), next = null;
    if (event.key === "ArrowRight" || event.key === "ArrowDown") next = Math.min(i + 1, list.length - 1);
    else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = Math.max(i - 1, 0);
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = list.length - 1;
    else if (event.key === " ") { event.preventDefault(); hit.click(); return; }
    if (next === null) return;
    event.preventDefault();
    rove(next);
    list[next].focus();
  });

  // -- playback ----------------------------------------------------------------------------------

  function setPlaying(on) {
    playButton.textContent = on ? settings.labels.pause : settings.labels.play;
    if (on) playButton.setAttribute("data-playing", "");
    else playButton.removeAttribute("data-playing");
    root.classList.toggle("gm-playing", on);
  }

  // Where the data spans a few years and carries dates, playback moves a month at a time inside
  // each year (a growing network rather than a few jumps); the slider stays on years, as the
  // URL does. Under reduced motion, and for a large map's data (years only), a year at a time.
  function monthly() {
    var v = view();
    if (motion.matches || last - first > MONTHS_UP_TO || !v || !v.data || !v.showAgreements) return null;
    var list = v.data.agreements, starts = [];
    for (var i = 0; i < list.length; i++) {
      if (!list[i].iso) return null;
      starts.push(list[i].iso.slice(0, 7));
    }
    return starts;
  }

  var months = window.Intl ? new Intl.DateTimeFormat(document.documentElement.lang || "en", { year: "numeric", month: "long" }) : null;
  function monthLabel(y, m) {
    return months ? months.format(new Date(y, m - 1, 1)) : y + "-" + m;
  }

  // One step: the network as it stood at the end of year y (or of month m of year y).
  function step(y, m, starts) {
    state = normalise(null, y);
    var month = null, count;
    if (m && m < 12) {
      month = y + "-" + (m < 10 ? "0" : "") + m;
      var shown = [];
      for (var i = 0; i < starts.length; i++) if (starts[i] <= month) shown.push(i);
      view().showAgreements(shown);
      render(null);
      count = shown.length;
      var now = document.getElementById("gm-tl-now");
      if (now) now.textContent = fill(F.status, { years: monthLabel(y, m), count: countText(count) });
    } else {
      count = mask();
      live.textContent = render(count);  // once a year, politely
    }
    emit("geomap:timeline", { year: y, month: month, count: count, playing: true });
  }

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  function play() {
    clearTimeout(settleTimer);
    // Resume where a pause left the growing network; else start from the first year.
    var y = state.from === null && state.to !== null && state.to < last ? state.to + 1 : first;
    setPlaying(true);
    playing = -1;  // playing, before the first step (while the map's data may be loading)
    ensureBase().then(function () {
      if (playing === null) return;
      var starts = monthly();
      var perYear = starts ? 12 : 1;
      var wait = (motion.matches ? REDUCED_STEP_MS : STEP_MS) / perYear;
      var m = 1;
      function tick() {
        step(y, starts ? m : null, starts);
        if (m < perYear) m += 1;
        else if (y >= last) { playing = null; finish(); return; }
        else { y += 1; m = 1; }
        playing = setTimeout(tick, wait);
      }
      tick();
    });
  }

  // Playback done: the whole network, as the server gives it.
  function finish() {
    setPlaying(false);
    state = { from: null, to: null };
    var count = mask();
    render(count);
    emit("geomap:timeline", { year: null, month: null, count: count, playing: false });
    commit();
  }

  function stopPlaying() {
    if (playing === null) return false;
    clearTimeout(playing);
    playing = null;
    setPlaying(false);
    return true;
  }

  playButton.addEventListener("click", function () {
    if (playing !== null) { stopPlaying(); render(mask()); commit(); }  // Pause: the server's view of it
    else play();
  });

  // -- start -------------------------------------------------------------------------------------

  if (motion.addEventListener) motion.addEventListener("change", function () { root.classList.toggle("gm-still", motion.matches); });
  root.classList.toggle("gm-still", motion.matches);
  sliders.style.setProperty("--gm-years", String(last - first + 1));
  sliders.hidden = false;
  if (last > first) playButton.hidden = false;
  else { fromInput.disabled = true; toInput.disabled = true; }
  rove();
  render(null);

  // For tests and the benchmark: the state, and the controls' actions.
  window.geomapTimeline = {
    play: play,
    pause: function () { if (stopPlaying()) { render(mask()); commit(); } },
    state: function () { return { from: state.from, to: state.to, playing: playing !== null, pending: pending }; }
  };
})();

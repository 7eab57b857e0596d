/* geomap timeline: the slider over the per-year histogram, Play and Pause.
 *
 * The server draws the histogram (geomap/chart_svg.py) and the year links over it, which work
 * without this script. This script adds two native range inputs (From year, Up to year: arrows,
 * Home, End, PageUp/PageDown and touch come with them) and Play/Pause, and moves the map:
 *
 * - While the visitor drags or plays, agreements are masked by year in the browser from the data
 *   already loaded (each agreement carries its year span): no request per step.
 * - When a drag is released, a key pressed, playback paused or finished, the page goes to the
 *   URL with year_from / year_to through the page's in-place filtering, so the map, the list and
 *   the counts are then exactly what the server gives for that URL, and the URL can be shared.
 *
 * year_to alone is the cumulative view (the network as it stood), both bounds a window. Play
 * grows the network from the first year to the last and ends on the whole of it. Under
 * prefers-reduced-motion it steps a year at a time, with no month steps and no transitions.
 */
(function () {
  "use strict";

  var root = document.getElementById("gm-timeline");
  if (!root) return;
  var settings = JSON.parse(document.getElementById("gm-timeline-settings").textContent);
  var first = settings.first, last = settings.last;
  var F = settings.formats;
  var fromInput = document.getElementById("gm-tl-from");
  var toInput = document.getElementById("gm-tl-to");
  var playButton = document.getElementById("gm-tl-play");
  var nowText = document.getElementById("gm-tl-now");
  var live = document.getElementById("gm-tl-live");
  var rangeBar = root.querySelector(".gm-tl-range");
  var sliders = root.querySelector(".gm-tl-sliders");
  var hits = Array.prototype.slice.call(root.querySelectorAll(".gm-tl-hit"));
  var yearGroups = Array.prototype.slice.call(root.querySelectorAll(".gm-years-svg .gm-year"));
  var axis = Array.prototype.slice.call(root.querySelectorAll(".gm-tl-axis li"));
  var motion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };

  var STEP_MS = 900;          // a year, while playing
  var REDUCED_STEP_MS = 1400;  // a year when steps are not animated: time to read it
  var SETTLE_MS = 350;         // after the last key press, before asking the server

  // null means unbounded: no year_from (from the first year), no year_to (to the last).
  var state = { from: settings.from, to: settings.to };
  var playing = null;   // the playback's timer while playing
  var settleTimer = null;

  function fill(format, values) {
    return format.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  function yearText(y) { return fill(F.year, { y: y }); }
  function yearsText(a, b) { return a === b ? yearText(a) : fill(F.range, { a: a, b: b }); }
  function countText(n) { return n === 1 ? F.one : fill(F.many, { n: n.toLocaleString(document.documentElement.lang) }); }
  function lo() { return state.from === null ? first : Math.max(first, state.from); }
  function hi() { return state.to === null ? last : Math.min(last, state.to); }

  // -- the map: masking in the browser ------------------------------------------------------------

  // Each agreement's first and last year, from what the map's data carries.
  function spanOf(a) {
    if (a.y) return typeof a.y === "number" ? [a.y, a.y] : a.y;
    var start = a.iso ? +a.iso.slice(0, 4) : null;
    var end = a.end ? +String(a.end).slice(0, 4) : start;
    return [start, end];
  }

  var base = null;  // the map's data for the current filters without the year filter

  function view() { return window.geomapView || null; }

  function visibleIndices(data, from, to, month) {
    var out = [];
    data.agreements.forEach(function (a, i) {
      var s = spanOf(a);
      if (s[0] === null) { out.push(i); return; }
      if (to !== null && s[0] > to) return;
      if (from !== null && s[1] < from) return;
      // Playback by month (cumulative): the agreements signed by the end of that month.
      if (month && s[0] === to && a.iso && a.iso.slice(0, 7) > month) return;
      out.push(i);
    });
    return out;
  }

  // Show only the agreements of [from, to] (and up to `month` inside the last year); returns
  // how many agreements are shown, or null when the map cannot mask (then only the server can).
  function mask(from, to, month) {
    var v = view();
    if (!v || !base) return null;
    var shown = visibleIndices(base, from, to, month);
    if (v.showAgreements) v.showAgreements(shown);
    return shown.length;
  }

  // -- what the timeline shows ---------------------------------------------------------------------

  function render(count, month) {
    var a = lo(), b = hi();
    fromInput.value = a;
    toInput.value = b;
    fromInput.setAttribute("aria-valuetext", yearText(a));
    toInput.setAttribute("aria-valuetext", yearText(b));
    // The "from" thumb on top once it reaches the end, so it can still be pulled back.
    fromInput.classList.toggle("gm-top", a >= last);
    var span = Math.max(last - first, 1);
    rangeBar.style.left = "calc(var(--gm-thumb) / 2 + (100% - var(--gm-thumb)) * " + ((a - first) / span) + ")";
    rangeBar.style.width = "calc((100% - var(--gm-thumb)) * " + ((b - a) / span) + ")";
    yearGroups.forEach(function (g) {
      var y = +g.getAttribute("data-year");
      g.classList.toggle("gm-out", y < a || y > b);
    });
    axis.forEach(function (li) {
      var y = +li.getAttribute("data-year");
      li.classList.toggle("gm-current", y === b);
    });
    if (count !== null && count !== undefined) {
      var label = month ? fill(F.status, { years: month.label, count: countText(count) })
        : fill(F.status, { years: yearsText(a, b), count: countText(count) });
      nowText.textContent = label;
      return label;
    }
    return nowText.textContent;
  }

  // -- the URL and the server ------------------------------------------------------------------

  function urlFor(st) {
    var params = new URLSearchParams(window.location.search);
    params.delete("popup");
    params.delete("year_from");
    params.delete("year_to");
    if (st.from !== null && st.from > first) params.set("year_from", st.from);
    if (st.to !== null && st.to < last) params.set("year_to", st.to);
    var q = params.toString();
    return window.location.pathname + (q ? "?" + q : "");
  }

  // Go to the state's URL in place: the page's filtering fetches it and swaps map, list and
  // counts; without it (a page that has none), the browser loads the URL.
  function commit() {
    clearTimeout(settleTimer);
    settleTimer = null;
    var url = urlFor(state);
    if (url === window.location.pathname + window.location.search) return;
    var page = window.geomapFilter;
    if (page && page.go) page.go(url);
    else window.location.assign(url);
  }

  function settleSoon() {
    clearTimeout(settleTimer);
    settleTimer = setTimeout(commit, SETTLE_MS);
  }

  // -- input -------------------------------------------------------------------------------------

  function normalise(from, to) {
    from = Math.max(first, Math.min(from, last));
    to = Math.max(first, Math.min(to, last));
    return { from: from <= first ? null : from, to: to >= last ? null : to };
  }

  function moved(which) {
    stop(false);
    var a = +fromInput.value, b = +toInput.value;
    if (a > b) { if (which === "from") a = b; else b = a; }
    state = normalise(a, b);
    render(mask(state.from, state.to));
  }

  fromInput.addEventListener("input", function () { moved("from"); });
  toInput.addEventListener("input", function () { moved("to"); });
  // "change" comes when a drag is released, and after each key press: ask the server then.
  fromInput.addEventListener("change", settleSoon);
  toInput.addEventListener("change", settleSoon);

  // The year bars: a click (or Enter) selects that year; arrows move between them (one tab stop).
  function selectYear(y) {
    stop(false);
    state = { from: y === first ? null : y, to: y === last ? null : y };
    render(mask(state.from, state.to));
    commit();
  }
  function roving(index) {
    hits.forEach(function (h, i) { h.tabIndex = i === index ? 0 : -1; });
  }
  hits.forEach(function (hit, i) {
    hit.addEventListener("click", function (event) {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button) return;  // new tab: the link
      event.preventDefault();
      roving(i);
      var y = +hit.getAttribute("data-year");
      // The year already shown alone: the link shows every year again.
      if (hit.classList.contains("gm-active") || (lo() === y && hi() === y && (state.from !== null || state.to !== null))) {
        stop(false);
        state = { from: null, to: null };
        render(mask(null, null));
        commit();
      } else {
        selectYear(y);
      }
    });
    hit.addEventListener("keydown", function (event) {
      var next = null;
      if (event.key === "ArrowRight" || event.key === "ArrowDown") next = Math.min(i + 1, hits.length - 1);
      else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = Math.max(i - 1, 0);
      else if (event.key === "Home") next = 0;
      else if (event.key === "End") next = hits.length - 1;
      if (next === null) return;
      event.preventDefault();
      roving(next);
      hits[next].focus();
    });
  });

  // -- playback ----------------------------------------------------------------------------------

  function steps() {
    // Months when the data spans a few years (smoother growth), else years; never months under
    // reduced motion. Each step: [year, month "YYYY-MM" or null, its label].
    var out = [];
    var byMonth = !motion.matches && (last - first) < 6;
    for (var y = first; y <= last; y++) {
      if (byMonth) {
        for (var m = 1; m <= 12; m++) {
          var key = y + "-" + (m < 10 ? "0" : "") + m;
          var label = new Date(y, m - 1, 1).toLocaleDateString(document.documentElement.lang, { year: "numeric", month: "long" });
          out.push([y, m === 12 ? null : key, label]);
        }
      } else {
        out.push([y, null, null]);
      }
    }
    return out;
  }

  function setPlaying(on) {
    playButton.textContent = on ? settings.labels.pause : settings.labels.play;
    if (on) playButton.setAttribute("data-playing", "");
    else playButton.removeAttribute("data-playing");
    root.classList.toggle("gm-playing", on);
  }

  function play() {
    var plan = steps();
    var perStep = (motion.matches ? REDUCED_STEP_MS : STEP_MS) * (last - first + 1) / plan.length;
    // Resume where a pause left the network, else start from the first year.
    var start = 0;
    if (state.from === null && state.to !== null && state.to < last) {
      for (var k = 0; k < plan.length; k++) if (plan[k][0] === state.to && plan[k][1] === null) start = k + 1;
    }
    state = { from: null, to: plan[start][0] };
    setPlaying(true);
    var i = start;
    function tick() {
      var step = plan[i];
      state = { from: null, to: step[0] };
      var text = render(mask(null, step[0], step[1]), step[1] ? { label: step[2] } : null);
      if (!step[1]) live.textContent = text;  // once a year, politely
      i += 1;
      if (i >= plan.length) {
        playing = null;
        finish();
        return;
      }
      playing = setTimeout(tick, perStep);
    }
    tick();
  }

  // Playback done: the whole network, as the server gives it.
  function finish() {
    setPlaying(false);
    state = { from: null, to: null };
    var text = render(mask(null, null));
    live.textContent = text;
    commit();
  }

  // Stop playing; with `settle`, bring the page to the state shown (a pause).
  function stop(settle) {
    if (playing === null) return;
    clearTimeout(playing);
    playing = null;
    setPlaying(false);
    render(mask(state.from, state.to));
    if (settle) commit();
  }

  playButton.addEventListener("click", function () {
    if (playing !== null) stop(true);
    else play();
  });

  // -- start -------------------------------------------------------------------------------------

  function ready() {
    var v = view();
    if (v && v.data && state.from === null && state.to === null) base = v.data;
  }
  document.addEventListener("geomap:ready", ready);
  ready();

  sliders.style.setProperty("--gm-years", String(last - first + 1));
  sliders.hidden = false;
  if (last > first) playButton.hidden = false;
  else { fromInput.disabled = true; toInput.disabled = true; }
  var active = hits.findIndex ? hits.findIndex(function (h) { return +h.getAttribute("data-year") === hi(); }) : -1;
  roving(active < 0 ? hits.length - 1 : active);
  render(null);

  window.geomapTimeline = {
    play: play,
    pause: function () { stop(true); },
    state: function () { return { from: state.from, to: state.to, playing: playing !== null }; }
  };
})();

/* geomap's map script: draws partners, Shanghai, their links, names, legend and details on
 * the Leaflet map folium made. folium's inline script only starts it,
 *     geomap.start(map_0001);
 * and the data and settings come from <script type="application/json"> elements
 * (#gm-map-data, #gm-map-settings): no data in executable script. view.js documents the API
 * it exposes as window.geomapView.
 *
 * Built into geomap/static/geomap.js by `make js` (esbuild); the modules here, one job each:
 *   text.js     shared text helpers (every data value enters the page as text)
 *   data.js     the JSON elements, a large map's fetched columns, indexes and the year mask
 *   symbols.js  what partners, the Shanghai hub, sites and stacks look like (map and legend)
 *   markers.js  the symbols as buttons, grouping close ones and spreading them out (spiderfy)
 *   links.js    the lines from Shanghai-side sites to partners
 *   labels.js   names on the map where they fit (collisions by priority)
 *   details.js  what a partner's or site's details say
 *   popup.js    where details show: a popup, or a bottom sheet on phones; focus and Escape
 *   legend.js   the legend
 *   states.js   loading, error and "no results" over the map
 *   view.js     window.geomapView: setData, focusPartner, setYearRange; events */

import { readJSON } from "./data.js";
import { createView } from "./view.js";

function start(map) {
  const view = createView(map);
  window.geomapView = view.api;
  view.api.setData(readJSON("gm-map-data"), readJSON("gm-map-settings") || {});
  return view.api;
}

window.geomap = { start: start };

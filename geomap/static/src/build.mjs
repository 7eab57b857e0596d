// Builds geomap/static/geomap.js from the ES modules in src/map/ (one job per file) with
// esbuild: one minified classic script, so pages load one file (cached for a year by its
// digest) and `geomap build` can inline it into a file that works from disk, where ES module
// imports cannot load. `node build.mjs --check` fails when the committed file is stale.
//
//     npm ci && npm run build      (or: make js)
import { build } from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "geomap.js");
const banner = "/*! geomap map script, built from geomap/static/src/map/ by `make js`: edit those, not this." +
  " Bundles rbush 4.0.1 (MIT) and quickselect 3.0.0 (ISC), (c) Volodymyr Agafonkin:" +
  " geomap/static/vendor/ has their licences. */";

const result = await build({
  entryPoints: [join(here, "map", "index.js")],
  bundle: true, minify: !process.argv.includes("--dev"), format: "iife", target: ["es2017"], write: false,
  legalComments: "none", charset: "utf8", banner: { js: banner },
  alias: { quickselect: join(here, "..", "vendor", "quickselect", "index.js") },
  logLevel: "warning",
});
const text = result.outputFiles[0].text;
if (process.argv.includes("--check")) {
  const committed = readFileSync(out, "utf8");
  if (committed !== text) {
    console.error("geomap/static/geomap.js is not what geomap/static/src/map/ builds: run `make js` and commit it");
    process.exit(1);
  }
  console.log("geomap.js is up to date (" + text.length + " bytes)");
} else {
  writeFileSync(out, text);
  console.log("wrote geomap/static/geomap.js (" + text.length + " bytes)");
}

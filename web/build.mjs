// Bundles the dashboard's 3D avatar (three.js, three-vrm, OrbitControls, src/avatar.js) into one
// minified script in the Python package, with the licence texts of every package in the bundle.
// Run by the Python build (setup.py) or by hand: `node build.mjs [output folder]`.
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, "..", "bridge", "dashboard", "static"));
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(here, "src", "avatar.js")],
  bundle: true, minify: true, format: "iife", target: "es2020", legalComments: "none",
  outfile: join(out, "avatar.js"), metafile: true, logLevel: "warning",
});

// The packages whose code the bundle holds, read off esbuild's own list of inputs.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (m) packages.add(m[1]);
}
const texts = [...packages].sort().map((name) => {
  const dir = join(here, "node_modules", name);
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = ["LICENSE", "LICENSE.md", "LICENSE.txt"].map((f) => join(dir, f)).find(existsSync);
  if (!file) throw new Error(`${name} has no LICENSE file: cannot ship it without its licence`);
  return `${"=".repeat(78)}\n${name} ${meta.version} (${meta.license})\n${"=".repeat(78)}\n\n${readFileSync(file, "utf8").trim()}\n`;
});
writeFileSync(join(out, "THIRD_PARTY_LICENSES.txt"),
  "The dashboard's avatar.js bundles these packages; their licences follow.\n\n" + texts.join("\n"));
console.log(`avatar.js: ${packages.size} packages (${[...packages].sort().join(", ")}) -> ${out}`);

// The reference renderers for bench/render_card.py: satori (layout + SVG) and resvg
// (SVG → PNG), drawing the same 1200×630 card as Pixhaven's document, with the same Inter
// TTFs. resvg is either resvg-js (native, napi) or resvg-wasm (the one that runs in a Worker).
// Usage: node card_satori.mjs <js|wasm> <font folder> <runs> [out.png]. Prints JSON: ms per card.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import satori from "satori";

const [renderer, fontDir, runsArg, outPath] = process.argv.slice(2);
let Resvg;
if (renderer === "wasm") {
  const wasm = await import("@resvg/resvg-wasm");
  const require = createRequire(import.meta.url);
  await wasm.initWasm(readFileSync(require.resolve("@resvg/resvg-wasm/index_bg.wasm")));
  Resvg = wasm.Resvg;
} else if (renderer === "js") {
  Resvg = (await import("@resvg/resvg-js")).Resvg;
} else {
  throw new Error(`renderer must be js or wasm, not ${renderer}`);
}
const runs = Number(runsArg || 20);
const font = (file, weight) => ({ name: "Inter", data: readFileSync(join(fontDir, file)), weight,
  style: "normal" });
const fonts = [font("Inter_400Regular.ttf", 400), font("Inter_600SemiBold.ttf", 600),
  font("Inter_700Bold.ttf", 700)];

const at = (x, y, style, children) => ({ type: "div", props: {
  style: { position: "absolute", left: x, top: y, display: "flex", ...style }, children } });

const card = { type: "div", props: {
  style: { width: 1200, height: 630, display: "flex", position: "relative",
    backgroundColor: "#0f172a", fontFamily: "Inter" },
  children: [
    at(80, 80, { backgroundColor: "#6366f1", color: "#ffffff", fontSize: 20, fontWeight: 600,
      padding: "6px 15px", borderRadius: 999 }, "ENGINEERING"),
    at(80, 150, { width: 1040, color: "#f8fafc", fontSize: 72, fontWeight: 700 },
      "Rendering social cards in pure Python at the edge"),
    at(80, 470, { width: 1040, height: 2, backgroundColor: "#334155" }, []),
    at(80, 500, { color: "#94a3b8", fontSize: 28, fontWeight: 400 }, "pixhaven.dev · June 2025"),
    at(960, 500, { color: "#94a3b8", fontSize: 28, fontWeight: 400 }, "5 min read"),
  ] } };

async function once() {
  const svg = await satori(card, { width: 1200, height: 630, fonts });
  return new Resvg(svg, { fitTo: { mode: "original" } }).render().asPng();
}

for (let i = 0; i < 3; i++) await once();  // warm-up: JIT, font parsing
const samples = [];
let png;
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  png = await once();
  samples.push(performance.now() - started);
}
if (outPath) writeFileSync(outPath, png);
samples.sort((a, b) => a - b);
console.log(JSON.stringify({ renderer, median_ms: samples[Math.floor(samples.length / 2)],
  min_ms: samples[0], runs }));

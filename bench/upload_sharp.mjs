// The reference for bench/upload_pipeline.py: sharp (libvips) doing the upload conversions
// Pixhaven does — the original upright and stripped of metadata, a WebP and an AVIF at the
// same quality — on the same 12-megapixel JPEG. Usage: node upload_sharp.mjs <jpeg> <runs>
// <quality>. Prints JSON: ms per upload.
import { readFileSync } from "node:fs";
import sharp from "sharp";

const [path, runsArg, qualityArg] = process.argv.slice(2);
const input = readFileSync(path);
const runs = Number(runsArg || 3);
const quality = Number(qualityArg || 80);

async function convert() {
  const upright = sharp(input).rotate();  // EXIF orientation applied, metadata dropped
  await Promise.all([
    upright.clone().jpeg({ quality: 90 }).toBuffer(),
    upright.clone().webp({ quality }).toBuffer(),
    // effort 3 = libaom speed 6, what Pillow's AVIF encoder (used locally) runs at by default
    upright.clone().avif({ quality, effort: 3 }).toBuffer(),
  ]);
}

sharp.concurrency(2);  // both cores: Pillow's AVIF encoder also uses every core
await convert();  // warm-up
const samples = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  await convert();
  samples.push(performance.now() - started);
}
samples.sort((a, b) => a - b);
console.log(JSON.stringify({ median_ms: samples[Math.floor(samples.length / 2)], min_ms: samples[0] }));

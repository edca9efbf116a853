// The reference for bench/upload_pipeline.py: sharp (libvips) doing the upload conversions
// Pixhaven does — the original upright and stripped of metadata, a WebP and an AVIF at the
// same quality — on the same 12-megapixel JPEG, with sharp's own defaults for each encoder
// (AVIF: effort 4, i.e. libaom speed 5, 4:4:4 chroma, 8 bits).
// Usage: node upload_sharp.mjs <jpeg> <runs> <quality> [<avif out>]
// Prints JSON: ms per upload, and the AVIF's size (written to <avif out> for PSNR).
import { readFileSync, writeFileSync } from "node:fs";
import sharp from "sharp";

const [path, runsArg, qualityArg, avifOut] = process.argv.slice(2);
const input = readFileSync(path);
const runs = Number(runsArg || 3);
const quality = Number(qualityArg || 80);

async function convert() {
  const upright = sharp(input).rotate();  // EXIF orientation applied, metadata dropped
  const [, , avif] = await Promise.all([
    upright.clone().jpeg({ quality: 90 }).toBuffer(),
    upright.clone().webp({ quality }).toBuffer(),
    upright.clone().avif({ quality }).toBuffer(),
  ]);
  return avif;
}

sharp.concurrency(2);  // both cores, as Pixhaven's conversion pool has
// No warm-up run: loading the library is milliseconds beside an AVIF at effort 4 (30 s and
// more for this image on the 2-core machine), and each run is one the benchmark waits for.
let avif;
const samples = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  avif = await convert();
  samples.push(performance.now() - started);
}
if (avifOut) writeFileSync(avifOut, avif);
samples.sort((a, b) => a - b);
console.log(JSON.stringify({
  median_ms: samples[Math.floor(samples.length / 2)],
  min_ms: samples[0],
  avif_bytes: avif.length,
}));

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
    upright.clone().avif({ quality }).toBuffer(),
  ]);
}

sharp.concurrency(1);  // one core, as one Python request gets
await convert();  // warm-up
const samples = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  await convert();
  samples.push(performance.now() - started);
}
samples.sort((a, b) => a - b);
console.log(JSON.stringify({ median_ms: samples[Math.floor(samples.length / 2)], min_ms: samples[0] }));

// ThumbHash placeholders, decoded in the browser from the format's published description
// (the encoder this mirrors is src/pixhaven/imaging/placeholder.py, whose docstring gives
// the layout): a 24-bit and a 16-bit little-endian header, an optional alpha byte, then the
// AC coefficients of the L, P, Q (and A) channels, 4 bits each, low nibble first.
//
// The result is a small RGBA picture (at most 32 px a side) drawn on a <canvas>; CSS
// stretches it, and the browser's smoothing is what makes the blur.

const PLACEHOLDER_SIDE = 32;

function base64Bytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// Reads the 4-bit AC coefficients of one channel: those (cx, cy) with
// cx·ny < nx·(ny − cy), row by row in cy, DC (0, 0) excluded. A nibble n stands for
// (n / 7.5 − 1) · scale, the inverse of the encoder's 0.5 + 0.5 · f / scale.
function readChannel(nibbles, start, nx, ny, scale) {
  const terms = [];
  let index = start;
  for (let cy = 0; cy < ny; cy++) {
    for (let cx = cy ? 0 : 1; cx * ny < nx * (ny - cy); cx++) {
      terms.push({ cx, cy, value: (nibbles(index++) / 7.5 - 1) * scale });
    }
  }
  return { terms, next: index };
}

// The value of one channel at pixel (x, y): the DC plus the inverse DCT of the kept terms.
// The encoder divides each sum by w·h, so a term with cx > 0 (or cy > 0) counts twice in
// that direction, as in any DCT-II inverse.
function channelAt(dc, terms, cosX, cosY) {
  let value = dc;
  for (const { cx, cy, value: f } of terms) {
    const weight = (cx ? 2 : 1) * (cy ? 2 : 1);
    value += f * weight * cosX[cx] * cosY[cy];
  }
  return value;
}

function clamp01(value) {
  return Math.min(1, Math.max(0, value));
}

// Decodes a base64 ThumbHash to {width, height, rgba: Uint8ClampedArray}. Throws on a hash
// too short to hold its own headers.
export function decodeThumbHash(base64) {
  const bytes = base64Bytes(base64);
  if (bytes.length < 5) throw new Error("ThumbHash too short");
  const header24 = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16);
  const header16 = bytes[3] | (bytes[4] << 8);
  const lDc = (header24 & 63) / 63;
  const pDc = ((header24 >> 6) & 63) / 31.5 - 1;
  const qDc = ((header24 >> 12) & 63) / 31.5 - 1;
  const lScale = ((header24 >> 18) & 31) / 31;
  const hasAlpha = (header24 >> 23) & 1;
  const lShortCount = header16 & 7;
  const pScale = ((header16 >> 3) & 63) / 63;
  const qScale = ((header16 >> 9) & 63) / 63;
  const landscape = (header16 >> 15) & 1;
  if (hasAlpha && bytes.length < 6) throw new Error("ThumbHash too short");

  // L keeps up to 7 coefficients along the longer side (5 with alpha), at least 3 each way.
  const lLongCount = hasAlpha ? 5 : 7;
  const lxCount = landscape ? lLongCount : lShortCount;
  const lyCount = landscape ? lShortCount : lLongCount;
  const lx = Math.max(3, lxCount);
  const ly = Math.max(3, lyCount);
  const aDc = hasAlpha ? (bytes[5] & 15) / 15 : 1;
  const aScale = hasAlpha ? (bytes[5] >> 4) / 15 : 0;

  const acStart = hasAlpha ? 6 : 5;
  const nibbles = (i) => {
    const byte = bytes[acStart + (i >> 1)] ?? 0;
    return i & 1 ? byte >> 4 : byte & 15;
  };
  const l = readChannel(nibbles, 0, lx, ly, lScale);
  const p = readChannel(nibbles, l.next, 3, 3, pScale);
  const q = readChannel(nibbles, p.next, 3, 3, qScale);
  const a = hasAlpha ? readChannel(nibbles, q.next, 5, 5, aScale) : null;

  // The aspect ratio comes from the L counts (as many terms per side as the image is long).
  const ratio = lxCount / Math.max(1, lyCount);
  const width = Math.max(1, Math.round(ratio > 1 ? PLACEHOLDER_SIDE : PLACEHOLDER_SIDE * ratio));
  const height = Math.max(1, Math.round(ratio > 1 ? PLACEHOLDER_SIDE / ratio : PLACEHOLDER_SIDE));
  const rgba = new Uint8ClampedArray(width * height * 4);
  const maxTerms = Math.max(lx, ly, 5);
  const cosX = new Float64Array(maxTerms);
  const cosY = new Float64Array(maxTerms);
  for (let y = 0, out = 0; y < height; y++) {
    for (let c = 0; c < maxTerms; c++) cosY[c] = Math.cos((Math.PI / height) * c * (y + 0.5));
    for (let x = 0; x < width; x++, out += 4) {
      for (let c = 0; c < maxTerms; c++) cosX[c] = Math.cos((Math.PI / width) * c * (x + 0.5));
      const lum = channelAt(lDc, l.terms, cosX, cosY);
      const pv = channelAt(pDc, p.terms, cosX, cosY);
      const qv = channelAt(qDc, q.terms, cosX, cosY);
      const alpha = a ? channelAt(aDc, a.terms, cosX, cosY) : 1;
      // The encoder's L = (r+g+b)/3, P = (r+g)/2 − b, Q = r − g, solved for r, g, b.
      const b = lum - (2 / 3) * pv;
      const r = (3 * lum - b + qv) / 2;
      const g = r - qv;
      rgba[out] = 255 * clamp01(r);
      rgba[out + 1] = 255 * clamp01(g);
      rgba[out + 2] = 255 * clamp01(b);
      rgba[out + 3] = 255 * clamp01(alpha);
    }
  }
  return { width, height, rgba };
}

// A <canvas> showing the placeholder, or null when there is none (a pending upload) or it
// cannot be decoded: the grid then shows a plain tile.
export function placeholderCanvas(base64) {
  if (!base64) return null;
  let decoded;
  try {
    decoded = decodeThumbHash(base64);
  } catch {
    return null;
  }
  const canvas = document.createElement("canvas");
  canvas.width = decoded.width;
  canvas.height = decoded.height;
  canvas.className = "placeholder";
  canvas.setAttribute("aria-hidden", "true");
  const context = canvas.getContext("2d");
  context.putImageData(new ImageData(decoded.rgba, decoded.width, decoded.height), 0, 0);
  return canvas;
}

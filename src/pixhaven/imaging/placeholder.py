"""ThumbHash placeholders, pure Python, written from the published format description
(evanw.github.io/thumbhash, "details"):

The image (at most 100×100) is blended over its own average colour by alpha and converted
to L (luminance, (r+g+b)/3), P ((r+g)/2 − b) and Q (r − g) channels, plus A when some pixel
is not opaque. Each channel gets a DCT keeping the coefficients (cx, cy) with
cx·ny < nx·(ny − cy) (a triangle): L uses up to 7 along the longer side (5 with alpha), P
and Q 3×3, A 5×5. Stored: a 24-bit header (L DC 6 bits, P DC 6, Q DC 6, L scale 5, has
alpha 1), a 16-bit header (L count along the shorter side 3 bits, P scale 6, Q scale 6,
is landscape 1), with alpha one byte (A DC 4 bits, A scale 4), then every AC coefficient,
normalised by its channel's scale to 0..1, in 4 bits, L then P then Q then A, two per byte,
low nibble first. All multi-bit fields are little-endian.
"""

from __future__ import annotations

import base64
import math

from pixhaven.imaging.png_pixels import MAX_SIDE, png_rgba


def thumbhash_from_png(png: bytes) -> str:
    """Base64 ThumbHash of the placeholder PNG env.IMAGES made (scale-down to 100×100).

    Decoded in pure Python (imaging/png_pixels.py): on Workers this is the one decode an
    upload makes in the isolate, and Pillow is not there. A PNG over 100 px a side raises
    FormatError: the pipeline asked for at most that, so a larger one is a bug."""
    width, height, rgba = png_rgba(png, MAX_SIDE)
    return base64.b64encode(rgba_to_thumbhash(width, height, rgba)).decode("ascii")


def rgba_to_thumbhash(w: int, h: int, rgba: bytes) -> bytes:
    if not (0 < w <= MAX_SIDE and 0 < h <= MAX_SIDE) or len(rgba) != w * h * 4:
        raise ValueError("ThumbHash input must be RGBA of at most 100x100 pixels")
    alpha = [a / 255 for a in rgba[3::4]]
    total_alpha = sum(alpha)
    means = []
    for offset in range(3):
        weighted = sum(a * v for a, v in zip(alpha, rgba[offset::4])) / 255
        means.append(weighted / total_alpha if total_alpha > 0 else 0.0)
    has_alpha = total_alpha < w * h
    # Blend transparent pixels towards the average colour, then split into L, P, Q.
    r, g, b = (
        [m * (1 - a) + a * v / 255 for a, v in zip(alpha, rgba[offset::4])]
        for offset, m in enumerate(means)
    )
    lum = [(x + y + z) / 3 for x, y, z in zip(r, g, b)]
    p = [(x + y) / 2 - z for x, y, z in zip(r, g, b)]
    q = [x - y for x, y in zip(r, g)]
    del r, g, b

    limit = 5 if has_alpha else 7
    longest = max(w, h)
    lx, ly = max(1, round(limit * w / longest)), max(1, round(limit * h / longest))
    l_dc, l_ac, l_scale = _dct(lum, w, h, max(lx, 3), max(ly, 3))
    p_dc, p_ac, p_scale = _dct(p, w, h, 3, 3)
    q_dc, q_ac, q_scale = _dct(q, w, h, 3, 3)
    landscape = w > h
    header24 = (
        round(63 * l_dc)
        | round(31.5 + 31.5 * p_dc) << 6
        | round(31.5 + 31.5 * q_dc) << 12
        | round(31 * l_scale) << 18
        | int(has_alpha) << 23
    )
    header16 = (
        (ly if landscape else lx)
        | round(63 * p_scale) << 3
        | round(63 * q_scale) << 9
        | int(landscape) << 15
    )
    out = bytearray(header24.to_bytes(3, "little") + header16.to_bytes(2, "little"))
    groups = [l_ac, p_ac, q_ac]
    if has_alpha:
        a_dc, a_ac, a_scale = _dct(alpha, w, h, 5, 5)
        out.append(round(15 * a_dc) | round(15 * a_scale) << 4)
        groups.append(a_ac)
    nibbles = [round(15 * f) for group in groups for f in group]
    if len(nibbles) % 2:
        nibbles.append(0)
    out.extend(lo | hi << 4 for lo, hi in zip(nibbles[::2], nibbles[1::2]))
    return bytes(out)


def _dct(channel: list[float], w: int, h: int, nx: int, ny: int):
    """(DC, normalised AC list, scale) over the coefficient triangle, row by row in cy."""
    cos_x = [[math.cos(math.pi / w * cx * (x + 0.5)) for x in range(w)] for cx in range(nx)]
    rows = [channel[y * w : (y + 1) * w] for y in range(h)]
    dc, ac = 0.0, []
    for cy in range(ny):
        # Separable: weight the rows by the vertical cosine once, then each cx is a dot.
        column = [0.0] * w
        for y, row in enumerate(rows):
            fy = math.cos(math.pi / h * cy * (y + 0.5))
            column = [c + fy * v for c, v in zip(column, row)]
        cx = 0
        while cx * ny < nx * (ny - cy):
            f = sum(c * k for c, k in zip(column, cos_x[cx])) / (w * h)
            if cx or cy:
                ac.append(f)
            else:
                dc = f
            cx += 1
    scale = max((abs(f) for f in ac), default=0.0)
    if scale > 0:
        ac = [0.5 + 0.5 / scale * f for f in ac]
    return dc, ac, scale


def thumbhash_average_rgba(hash_bytes: bytes) -> tuple[float, float, float, float]:
    """The average colour a ThumbHash encodes (its DC terms), each channel 0..1."""
    header = int.from_bytes(hash_bytes[:3], "little")
    lum = (header & 63) / 63
    p = (header >> 6 & 63) / 31.5 - 1
    q = (header >> 12 & 63) / 31.5 - 1
    alpha = (hash_bytes[5] & 15) / 15 if header >> 23 else 1.0
    b = lum - 2 / 3 * p
    r = (3 * lum - b + q) / 2
    g = r - q
    return min(1.0, max(0.0, r)), min(1.0, max(0.0, g)), min(1.0, max(0.0, b)), alpha

"""How the local Images emulation encodes AVIF (Pillow's libavif): the one place for it.

On Workers Cloudflare Images encodes; locally this is most of an upload's CPU, so the settings
were chosen by measurement (bench/upload_pipeline.py, a 12 MP photo-like JPEG at quality 80)
against sharp 0.35's defaults for the same quality (effort 4 = libaom speed 5, 4:4:4 chroma):
sharp 2,705,309 bytes at 43.41 dB PSNR. Pillow 11.3's libavif 1.3 offers one encoder, aom
(no svt, no rav1e). What it made, bytes as a ratio to sharp's, PSNR, one encode on 2 threads:

    speed 6, 4:2:0, q80:  0.93×  41.59 dB   5.9 s   (today's default: -1.8 dB)
    speed 9, 4:2:0, q80:  1.09×  40.03 dB   2.1 s
    speed 7-9, 4:4:4, q80: 1.11× 40.76 dB   1.1-2.2 s  (libaom's fast modes lose 2.7 dB)
    speed 6, 4:4:4, q80:  0.96×  42.96 dB   9.0 s   (-0.45 dB)
    speed 6, 4:4:4, q81:  0.98×  43.64 dB           <- chosen: +0.23 dB, -2% bytes
    speed 6, 4:4:4, q82:  1.01×  44.33 dB

libavif fixes the quantizer at ((100 - q) * 63 + 50) / 100 (13 at q80) while libheif, under
sharp, lets libaom vary it around that level, which is worth about one quality step here:
hence QUALITY_OFFSET. Speeds 7-9 are no shortcut: at equal PSNR they need far more bytes.
"""

from __future__ import annotations

import os
from typing import Any

SPEED = 6
SUBSAMPLING = "4:4:4"  # sharp's default; 4:2:0 caps PSNR on colourful detail
QUALITY_OFFSET = 1  # see above: our q81 matches sharp's q80
# libaom's row threads: an upload's WebP and placeholder run beside the AVIF on the
# conversion pool (one thread per core), and the AVIF outlasts them, so it may use every core.
MAX_THREADS = max(1, min(4, os.cpu_count() or 1))


def avif_save_args(quality: int) -> dict[str, Any]:
    """Pillow `save(..., "AVIF", **args)` for a requested quality (1-100)."""
    return {
        "quality": min(100, quality + QUALITY_OFFSET),
        "speed": SPEED,
        "subsampling": SUBSAMPLING,
        "max_threads": MAX_THREADS,
    }

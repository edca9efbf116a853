"""How the local Images emulation encodes AVIF (Pillow's libavif): the one place for it.

On Workers Cloudflare Images encodes; locally this is most of an upload's CPU, so the settings
were chosen by measurement (bench/upload_pipeline.py, a 12 MP photo-like JPEG at quality 80)
against sharp 0.35's defaults for the same quality (effort 4 = libaom speed 5, 4:4:4 chroma):
sharp 2,705,309 bytes at 43.41 dB PSNR. Pillow 11.3's libavif 1.3 offers one encoder, aom
(no svt, no rav1e). What it made, bytes as a ratio to sharp's, PSNR, one encode on 2 threads:

    speed 6, 4:2:0, q80:   0.93×  41.59 dB   (the old default: -1.8 dB)
    speed 9, 4:2:0, q80:   1.09×  40.03 dB   2.1 s against 5.9 s
    speed 7-9, 4:4:4, q80: 1.11×  40.76 dB   (libaom's fast modes lose 2.7 dB: no shortcut)
    speed 6, 4:4:4, q80:   0.96×  42.96 dB
    speed 6, 4:4:4, q81:   0.98×  43.64 dB   encode alone: peak RSS 459 MB
    speed 6, 4:2:0, q82:   0.99×  42.94 dB   (q82 and q83 are the same quantizer, 11)
    speed 6, 4:2:0, q84:   1.04×  43.53 dB   343 MB  <- chosen: +0.12 dB, +3.6% bytes
    speed 6, 4:2:0, q85:   1.09×  44.00 dB

4:4:4 is sharp's own choice and as good, but its encoder holds 116 MB more for 12 MP, which
takes an upload past 500 MB (530 measured); the time is the same (12-17 s against 13-15 s,
alternating, on a loaded machine). libavif fixes the quantizer at ((100 - q) * 63 + 50) / 100
(13 at q80); libheif under sharp lets libaom vary it around that level and keeps chroma whole:
matching it at 4:2:0 takes quantizer 10, hence QUALITY_OFFSET (measured at q80 only).
"""

from __future__ import annotations

import os
from typing import Any

SPEED = 6
SUBSAMPLING = "4:2:0"
QUALITY_OFFSET = 4  # see above: our q84 at 4:2:0 matches sharp's q80 at 4:4:4
# libaom's threads: an upload's WebP and placeholder run beside the AVIF on the conversion
# pool (one thread per core) and the AVIF outlasts them, so it may use every core. Measured
# at 4:4:4 q81, alternating fresh processes: 2 threads 9.9-10.2 s wall against 15-29 s for 1,
# the same CPU (8.5-9.0 s) and the same peak memory.
MAX_THREADS = max(1, min(4, os.cpu_count() or 1))


def avif_save_args(quality: int) -> dict[str, Any]:
    """Pillow `save(..., "AVIF", **args)` for a requested quality (1-100)."""
    return {
        "quality": min(100, quality + QUALITY_OFFSET),
        "speed": SPEED,
        "subsampling": SUBSAMPLING,
        "max_threads": MAX_THREADS,
    }

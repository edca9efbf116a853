"""The unfiltered PNG writer for flat drawings (render/flat_png.py): any RGB or RGBA canvas
comes back pixel for pixel, whatever its size against the writer's bands of rows, and a
rendered card is the same picture through either PNG encoder."""

import io

import pytest
from PIL import Image

from pixhaven.render import raster
from pixhaven.render.flat_png import BAND_ROWS, write_flat_png


def noisy(mode: str, size: tuple[int, int]) -> Image.Image:
    bands = [Image.effect_noise(size, 90 + 20 * i).convert("L") for i in range(len(mode))]
    return Image.merge(mode, bands)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (7, BAND_ROWS), (130, BAND_ROWS * 2 + 1), (640, 3)])
def test_every_pixel_comes_back(mode, size):
    image = noisy(mode, size)
    png = write_flat_png(image)
    decoded = Image.open(io.BytesIO(png))
    decoded.verify()  # chunk CRCs and structure
    decoded = Image.open(io.BytesIO(png))
    assert decoded.mode == mode and decoded.size == size
    assert decoded.tobytes() == image.tobytes()


def test_other_modes_are_refused():
    with pytest.raises(KeyError):
        write_flat_png(Image.new("L", (4, 4)))


@pytest.mark.parametrize("opaque", [True, False])
def test_a_card_is_the_same_picture_through_either_encoder(opaque):
    canvas = Image.new("RGBA", (300, 160), (15, 23, 42, 255 if opaque else 128))
    canvas.alpha_composite(Image.new("RGBA", (200, 40), (99, 102, 241, 255)), (20, 30))
    canvas.alpha_composite(noisy("RGBA", (60, 60)), (220, 80))  # anti-aliased-like edges
    fast = raster.encode(canvas, "image/png", 80, opaque, flat=True)
    filtered = raster.encode(canvas, "image/png", 80, opaque, flat=False)
    assert fast != filtered
    with Image.open(io.BytesIO(fast)) as a, Image.open(io.BytesIO(filtered)) as b:
        assert a.mode == b.mode == ("RGB" if opaque else "RGBA")
        assert a.tobytes() == b.tobytes()

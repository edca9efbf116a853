"""The local Images emulation's encoder settings and its shared decode's small outputs: AVIF
at sharp's quality (local/bindings/avif.py), and a placeholder made beside full-size versions
from the one shared decode, reduced, being the placeholder made alone."""

import asyncio
import io
import math

from PIL import Image, ImageChops, ImageStat

from pixhaven.interop import byte_stream
from pixhaven.local.bindings.images import LocalImages
from tests.imagegen import pixels

RED, BLUE = (220, 30, 30), (30, 30, 220)


def encode(image: Image.Image, fmt: str, **save_args) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save_args)
    return buffer.getvalue()


async def convert(images: LocalImages, data: bytes, output: dict, *steps: dict) -> Image.Image:
    transformer = images.input(byte_stream(data))
    for step in steps:
        transformer = transformer.transform(step)
    result = await transformer.output(output)
    image = Image.open(io.BytesIO(await result.response().bytes()))
    image.load()
    return image.convert("RGB")


def close(a, b, tolerance: int) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


def psnr(a: Image.Image, b: Image.Image) -> float:
    mse = sum(x * x for x in ImageStat.Stat(ImageChops.difference(a, b)).rms) / 3
    return math.inf if mse == 0 else 10 * math.log10(255 * 255 / mse)


async def test_avif_quality_is_sharps_not_libavifs():
    # libavif's q80 comes out 1.8 dB worse than sharp's q80 (local/bindings/avif.py): the
    # emulation's q80 must be closer to the source than libavif's, and any quality, up to
    # 100, must still be accepted.
    photo = Image.radial_gradient("L").resize((256, 192)).convert("RGB")
    photo = Image.blend(photo, Image.effect_noise((256, 192), 40).convert("RGB"), 0.3)
    images = LocalImages()
    ours = await convert(images, encode(photo, "PNG"), {"format": "image/avif", "quality": 80})
    plain = Image.open(io.BytesIO(encode(photo, "AVIF", quality=80))).convert("RGB")
    assert psnr(photo, ours) > psnr(photo, plain) + 0.5
    best = await convert(images, encode(photo, "PNG"), {"format": "image/avif", "quality": 100})
    assert psnr(photo, best) > psnr(photo, ours)


def oriented_photo() -> bytes:
    """A 1600x1200 JPEG stored sideways (EXIF orientation 6: upright it is 1200x1600), its
    stored top-left quadrant blue on red, with a gradient so resampling errors show."""
    image = Image.linear_gradient("L").resize((1600, 1200)).convert("RGB")
    image = Image.blend(image, Image.new("RGB", image.size, RED), 0.6)
    image.paste(BLUE, (0, 0, 800, 600))
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(image, "JPEG", quality=92, exif=exif.tobytes())


async def test_placeholder_beside_full_size_versions_is_the_placeholder_made_alone():
    photo = oriented_photo()
    box = {"width": 100, "height": 100, "fit": "scale-down"}
    png = {"format": "image/png"}
    alone = await convert(LocalImages(), photo, png, box)
    # As an upload asks: the placeholder and full-size versions together, one decode.
    images = LocalImages()
    together, webp, jpeg = await asyncio.gather(
        convert(images, photo, png, box),
        convert(images, photo, {"format": "image/webp", "quality": 80}),
        convert(images, photo, {"format": "image/jpeg", "quality": 80}),
    )
    assert alone.size == together.size == (75, 100)
    assert webp.size == jpeg.size == (1200, 1600)
    assert all(close(a, b, 12) for a, b in zip(pixels(alone), pixels(together)))
    # Upright, the stored top-left quadrant is the top-right one.
    assert close(together.getpixel((70, 5)), BLUE, 40)

"""The stream walks find what the in-memory walkers find, whatever the chunk boundaries,
and a stream that ends early is a truncated file; `FixedLengthByteStream` refuses what
workerd's FixedLengthStream refuses."""

import asyncio
import io
import random

import pytest
from PIL import Image

from pixhaven.imaging.containers import FormatError, jpeg_scan_end, png_chunks
from pixhaven.imaging.metadata import jpeg_kept_header
from pixhaven.imaging.stream_walk import StreamWalk, jpeg_image_end, png_chunk_walk
from pixhaven.interop import FixedLengthByteStream

CHUNK_SIZES = [1, 2, 3, 7, 100, 4096, 1 << 20]


def noise(width: int, height: int) -> Image.Image:
    return Image.frombytes("RGB", (width, height), random.Random(7).randbytes(width * height * 3))


def encoded(fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    noise(96, 64).save(buffer, fmt, **options)
    return buffer.getvalue()


JPEGS = {
    "baseline": encoded("JPEG", quality=90),
    "progressive": encoded("JPEG", quality=90, progressive=True),
    "restart-markers": encoded("JPEG", quality=90, restart_marker_blocks=1),
    # Fill bytes before the end-of-image marker, then another picture after it.
    "fill-bytes-and-trailer": encoded("JPEG")[:-2] + b"\xff\xff\xff\xd9" + b"\xff\xd8more\xff\xd9",
}


def walked(parser, data: bytes, chunk_size: int, what: str):
    walk = StreamWalk(parser, what)
    for start in range(0, len(data), chunk_size):
        walk.feed(data[start : start + chunk_size])
    return walk.finish()


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
@pytest.mark.parametrize("name", list(JPEGS))
def test_jpeg_image_end_matches_the_in_memory_scan(name, chunk_size):
    data = JPEGS[name]
    _, sos_start = jpeg_kept_header(data)
    expected = jpeg_scan_end(data, sos_start)
    assert walked(jpeg_image_end(sos_start), data, chunk_size, "JPEG") == expected


@pytest.mark.parametrize("chunk_size", [1, 5, 4096])
def test_jpeg_cut_before_its_end_marker_is_truncated(chunk_size):
    data = JPEGS["baseline"]
    _, sos_start = jpeg_kept_header(data)
    for cut in (sos_start + 3, len(data) // 2, len(data) - 1):
        with pytest.raises(FormatError, match="JPEG is truncated"):
            walked(jpeg_image_end(sos_start), data[:cut], chunk_size, "JPEG")


PNG = encoded("PNG", compress_level=0, pnginfo=None)


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
def test_png_chunk_walk_matches_png_chunks(chunk_size):
    chunks, small = walked(png_chunk_walk(frozenset({b"IHDR"})), PNG, chunk_size, "PNG")
    assert chunks == list(png_chunks(PNG))
    ((start, ihdr),) = small.items()
    assert start == 8 and ihdr == PNG[8:33]


def test_png_without_its_end_chunk_is_truncated():
    with pytest.raises(FormatError, match="PNG is truncated"):
        walked(png_chunk_walk(frozenset()), PNG[:-6], 100, "PNG")


def test_a_walk_never_holds_more_than_a_chunk_and_its_request():
    """Memory stays bounded: the buffer is trimmed to what the next request needs."""
    data = JPEGS["baseline"]
    _, sos_start = jpeg_kept_header(data)
    walk = StreamWalk(jpeg_image_end(sos_start), "JPEG")
    largest = 0
    for start in range(0, len(data), 512):
        walk.feed(data[start : start + 512])
        largest = max(largest, len(walk._buffer))
    assert largest <= 512 + 4


async def test_fixed_length_stream_gives_exactly_its_length():
    stream = FixedLengthByteStream(6)

    async def write():
        await stream.write(b"abc")
        await stream.write(b"def")
        await stream.close()

    async def read():
        return b"".join([chunk async for chunk in stream])

    _, read_back = await asyncio.gather(write(), read())
    assert read_back == b"abcdef"


async def test_fixed_length_stream_refuses_too_many_or_too_few_bytes():
    too_many = FixedLengthByteStream(2)
    with pytest.raises(TypeError, match="too many bytes"):
        await too_many.write(b"abc")
    with pytest.raises(TypeError, match="too many bytes"):
        [chunk async for chunk in too_many]
    too_few = FixedLengthByteStream(5)
    await too_few.write(b"ab")
    with pytest.raises(TypeError, match="did not see all expected bytes"):
        await too_few.close()
    with pytest.raises(TypeError, match="did not see all expected bytes"):
        [chunk async for chunk in too_few]


async def test_a_put_of_a_short_fixed_length_stream_stores_nothing(env):
    stream = FixedLengthByteStream(10)

    async def write():
        await stream.write(b"12345")
        with pytest.raises(TypeError):
            await stream.close()

    put = env.BUCKET.put("short", stream)
    results = await asyncio.gather(write(), put, return_exceptions=True)
    assert isinstance(results[1], TypeError)
    assert await env.BUCKET.head("short") is None

"""Images cost bounded memory: the cases of the issue, each with the answer it gets now.

A file whose header claims more pixels than its data can hold is a 400 (truncated or lying
image), before anything is decoded at the claimed size. Legal images too large for the
decoded-pixel budget are refused (413 when they could never fit it, 503 with Retry-After
while it is busy); what the budget lets through is decoded once per upload.
"""

import io

import pytest
from PIL import Image

from pixhaven.imaging.containers import FormatError
from pixhaven.imaging.formats import read_header
from pixhaven.imaging.verify import verify_decodes
from tests.conftest import assert_error_envelope
from tests.imagegen import lying_avif, lying_jpeg, upload


async def test_jpeg_whose_frame_header_claims_more_than_its_data_is_400(client, admin):
    response = await upload(client, admin, lying_jpeg(9000, 9000), "lying.jpg")
    body = assert_error_envelope(response, 400)
    assert "Invalid JPEG image" in body["error"] and "9000x9000" in body["error"]
    assert "truncated" in body["error"]


async def test_jpeg_claiming_a_little_more_than_its_data_is_400_not_grey_padding(client, admin):
    # Close enough to pass the size bound: the decode check notices the data running out.
    response = await upload(client, admin, lying_jpeg(128, 88), "lying.jpg")
    body = assert_error_envelope(response, 400)
    assert "Invalid JPEG image" in body["error"] and "truncated" in body["error"]


async def test_avif_whose_ispe_claims_more_than_its_av1_data_is_400(client, admin):
    response = await upload(client, admin, lying_avif(9000, 9000), "lying.avif")
    body = assert_error_envelope(response, 400)
    assert "Invalid AVIF image" in body["error"]
    assert "9000x9000" in body["error"] and "8x8" in body["error"]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"progressive": True},
        {"subsampling": 0},
        {"subsampling": 1},
        {"restart_marker_blocks": 1},
        {"mode": "L"},
        {"mode": "CMYK"},
        {"mode": "L", "progressive": True},
    ],
    ids=str,
)
def test_legal_jpegs_pass_the_coded_data_bound_and_decode_check(options):
    options = dict(options)
    mode = options.pop("mode", "RGB")
    image = Image.linear_gradient("L").resize((333, 77)).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    data = buffer.getvalue() + b"camera trailer after the end-of-image marker"
    verify_decodes(data, read_header(data, "jpeg"))


def test_legal_flat_12_megapixel_jpeg_is_far_above_the_bound():
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), (128, 128, 128)).save(buffer, "JPEG", progressive=True)
    data = buffer.getvalue()
    verify_decodes(data, read_header(data, "jpeg"))


def test_multi_picture_jpeg_decodes_every_picture():
    frames = [Image.new("RGB", (100, 60), c) for c in ((200, 0, 0), (0, 0, 200))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "MPO", save_all=True, append_images=frames[1:])
    data = buffer.getvalue()
    verify_decodes(data, read_header(data, "jpeg"))
    first_end = data.index(b"\xff\xd9")  # the first picture, cut short before its EOI
    with pytest.raises(FormatError):
        verify_decodes(data[: first_end - 40] + data[first_end:], read_header(data, "jpeg"))

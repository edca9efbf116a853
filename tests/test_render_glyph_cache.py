"""The raster glyph cache: pasted glyphs match FreeType's own drawing, and the cache stays
within its byte budget."""

from PIL import Image, ImageDraw, ImageFont, ImageStat

from pixhaven.render.raster import GlyphCache


def drawn_directly(font, char, x, y, size=(120, 120)):
    image = Image.new("L", size, 0)
    ImageDraw.Draw(image).text((x, y), char, font=font, fill=255, anchor="ls")
    return image


def drawn_from_cache(cache, font, char, x, y, size=(120, 120)):
    image = Image.new("L", size, 0)
    glyph, corner = cache.get(font, char, x, y)
    image.paste(255, corner, glyph)
    return image


def test_cached_glyphs_land_where_freetype_draws_them():
    font = ImageFont.load_default(size=48)
    cache = GlyphCache()
    for char in "Ag&":
        for x, y in ((20.0, 80.0), (20.3, 80.7), (21.9, 79.1)):
            direct = drawn_directly(font, char, x, y)
            cached = drawn_from_cache(cache, font, char, x, y)
            box_a, box_b = direct.getbbox(), cached.getbbox()
            assert all(abs(a - b) <= 1 for a, b in zip(box_a, box_b)), (char, x, y, box_a, box_b)
            # Same ink overall (a sub-pixel shift moves coverage, it does not add any).
            ink_a, ink_b = ImageStat.Stat(direct).sum[0], ImageStat.Stat(cached).sum[0]
            assert abs(ink_a - ink_b) <= 0.03 * ink_a


def test_second_use_is_served_from_the_cache():
    font = ImageFont.load_default(size=30)
    cache = GlyphCache()
    first = cache.get(font, "Q", 10.0, 40.0)[0]
    assert cache.get(font, "Q", 10.0, 40.0)[0] is first
    assert cache.get(font, "Q", 30.0, 60.0)[0] is first  # same subpixel phase, other place
    assert cache.get(font, "Q", 10.5, 40.0)[0] is not first


def test_cache_keeps_to_its_byte_budget():
    font = ImageFont.load_default(size=120)
    cache = GlyphCache(max_bytes=60_000)
    for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        cache.get(font, char, 0.0, 0.0)
        assert cache.bytes <= 60_000
    assert 0 < len(cache._entries) < 26

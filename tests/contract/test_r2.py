"""R2 contract: what app code may rely on from `env.BUCKET`, on every implementation.

Only the binding surface of docs/BINDINGS.md is used. Values are compared in
JSON-representable form (bytes via `bytes(await obj.arrayBuffer())`, `uploaded` only as a
datetime), so the same test runs against Miniflare through the bridge.
"""

import datetime
import hashlib

import pytest


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


async def read_bytes(obj) -> bytes:
    return bytes(await obj.arrayBuffer())  # a memoryview, as the SDK converts an ArrayBuffer


async def test_put_returns_object_metadata(r2):
    data = b"hello pixhaven"
    obj = await r2.put("greeting.txt", data)

    assert obj.key == "greeting.txt"
    assert obj.size == len(data)
    assert obj.etag == md5_hex(data)
    assert obj.httpEtag == f'"{md5_hex(data)}"'
    assert isinstance(obj.version, str) and obj.version
    assert isinstance(obj.uploaded, datetime.datetime)
    # Production R2 says "Standard"; Miniflare leaves it empty.
    assert isinstance(obj.storageClass, str)


async def test_get_returns_the_stored_bytes(r2):
    data = bytes(range(256)) * 10
    await r2.put("binary.bin", data)

    obj = await r2.get("binary.bin")

    assert obj.key == "binary.bin"
    assert obj.size == len(data)
    assert obj.etag == md5_hex(data)
    assert obj.httpEtag == f'"{md5_hex(data)}"'
    assert isinstance(obj.uploaded, datetime.datetime)
    assert await read_bytes(obj) == data


async def test_text_and_json_bodies(r2):
    await r2.put("doc.json", '{"name": "café", "tags": ["a", "b"]}')
    assert await (await r2.get("doc.json")).json() == {"name": "café", "tags": ["a", "b"]}
    assert await (await r2.get("doc.json")).text() == '{"name": "café", "tags": ["a", "b"]}'


async def test_empty_and_none_values(r2):
    obj = await r2.put("empty", None)
    assert obj.size == 0
    assert obj.etag == md5_hex(b"")
    assert await read_bytes(await r2.get("empty")) == b""


async def test_missing_keys_give_none(r2):
    assert await r2.get("nope") is None
    assert await r2.head("nope") is None


async def test_metadata_round_trips_through_get_and_head(r2):
    await r2.put(
        "images/cat.png",
        b"\x89PNG fake",
        httpMetadata={"contentType": "image/png", "cacheControl": "public, max-age=60"},
        customMetadata={"owner": "alice", "imageId": "42"},
    )
    for obj in (await r2.get("images/cat.png"), await r2.head("images/cat.png")):
        assert obj.httpMetadata["contentType"] == "image/png"
        assert obj.httpMetadata["cacheControl"] == "public, max-age=60"
        assert obj.customMetadata == {"owner": "alice", "imageId": "42"}
        assert obj.size == len(b"\x89PNG fake")
        assert obj.etag == md5_hex(b"\x89PNG fake")


async def test_overwrite_replaces_data_etag_and_version(r2):
    first = await r2.put("k", b"one")
    second = await r2.put("k", b"two")
    assert second.etag == md5_hex(b"two") != first.etag
    assert second.version != first.version
    assert await read_bytes(await r2.get("k")) == b"two"


async def test_keys_with_slashes_unicode_and_dots_round_trip(r2):
    keys = ["a/b/c.txt", "Ünïcødé/ファイル.png", "../escape", "a/../../b", "UPPER", "upper"]
    for key in keys:
        await r2.put(key, key.encode())
    for key in keys:
        assert await read_bytes(await r2.get(key)) == key.encode()
    listed = await r2.list()
    assert [o.key for o in listed["objects"]] == sorted(keys)


async def test_range_with_offset_and_length(r2):
    data = b"0123456789abcdef"
    await r2.put("range", data)

    obj = await r2.get("range", range={"offset": 4, "length": 6})

    assert await read_bytes(obj) == b"456789"
    assert obj.size == len(data)
    assert obj.range["offset"] == 4
    assert obj.range["length"] == 6


async def test_range_with_offset_only_reads_to_the_end(r2):
    await r2.put("range", b"0123456789")
    obj = await r2.get("range", range={"offset": 7})
    assert await read_bytes(obj) == b"789"


async def test_range_with_suffix(r2):
    await r2.put("range", b"0123456789")
    obj = await r2.get("range", range={"suffix": 3})
    assert await read_bytes(obj) == b"789"
    assert obj.size == 10


async def test_range_longer_than_object_is_clamped(r2):
    await r2.put("range", b"0123456789")
    obj = await r2.get("range", range={"offset": 8, "length": 100})
    assert await read_bytes(obj) == b"89"


async def test_get_only_if_etag(r2):
    stored = await r2.put("cond", b"data")

    matching = await r2.get("cond", onlyIf={"etagMatches": stored.etag})
    assert await read_bytes(matching) == b"data"

    failed = await r2.get("cond", onlyIf={"etagMatches": md5_hex(b"other")})
    assert failed is not None
    assert failed.key == "cond" and failed.etag == stored.etag
    assert getattr(failed, "body", None) is None

    unchanged = await r2.get("cond", onlyIf={"etagDoesNotMatch": stored.etag})
    assert getattr(unchanged, "body", None) is None
    changed = await r2.get("cond", onlyIf={"etagDoesNotMatch": md5_hex(b"other")})
    assert await read_bytes(changed) == b"data"


async def test_get_only_if_uploaded(r2):
    stored = await r2.put("cond", b"data")
    day = datetime.timedelta(days=1)

    after_yesterday = await r2.get("cond", onlyIf={"uploadedAfter": stored.uploaded - day})
    assert await read_bytes(after_yesterday) == b"data"
    after_tomorrow = await r2.get("cond", onlyIf={"uploadedAfter": stored.uploaded + day})
    assert getattr(after_tomorrow, "body", None) is None

    before_tomorrow = await r2.get("cond", onlyIf={"uploadedBefore": stored.uploaded + day})
    assert await read_bytes(before_tomorrow) == b"data"
    before_yesterday = await r2.get("cond", onlyIf={"uploadedBefore": stored.uploaded - day})
    assert getattr(before_yesterday, "body", None) is None


async def test_put_only_if_that_fails_returns_none_and_keeps_the_object(r2):
    stored = await r2.put("cond", b"original")
    assert await r2.put("cond", b"new", onlyIf={"etagMatches": md5_hex(b"x")}) is None
    assert await read_bytes(await r2.get("cond")) == b"original"

    replaced = await r2.put("cond", b"new", onlyIf={"etagMatches": stored.etag})
    assert replaced.etag == md5_hex(b"new")
    assert await r2.put("missing", b"x", onlyIf={"etagMatches": stored.etag}) is None


async def test_body_stream_of_a_get_can_be_put(r2):
    data = b"stream me" * 1000
    await r2.put("source", data, httpMetadata={"contentType": "text/plain"})
    source = await r2.get("source")

    content_type = source.httpMetadata["contentType"]
    copy = await r2.put("copy", source.body, httpMetadata={"contentType": content_type})

    assert copy.etag == md5_hex(data)
    copied = await r2.get("copy")
    assert await read_bytes(copied) == data
    assert copied.httpMetadata["contentType"] == "text/plain"


async def test_delete_one_and_many(r2):
    for key in ("a", "b", "c", "d"):
        await r2.put(key, key)
    await r2.delete("a")
    await r2.delete(["b", "c", "never-existed"])
    await r2.delete("never-existed")
    assert await r2.head("a") is None
    assert await r2.get("b") is None
    listed = await r2.list()
    assert [o.key for o in listed["objects"]] == ["d"]


async def test_list_pages_with_cursor_neither_skip_nor_repeat(r2):
    keys = [f"item-{i:02d}" for i in range(25)]
    for key in reversed(keys):  # insertion order must not matter
        await r2.put(key, key)

    seen, cursor, pages = [], None, []
    while True:
        options = {"limit": 10}
        if cursor:
            options["cursor"] = cursor
        page = await r2.list(**options)
        pages.append(len(page["objects"]))
        seen.extend(o.key for o in page["objects"])
        if not page["truncated"]:
            assert not page.get("cursor")
            break
        cursor = page["cursor"]
        assert cursor

    assert pages == [10, 10, 5]
    assert seen == keys


async def test_list_defaults_and_object_fields(r2):
    await r2.put("one", b"1")
    listed = await r2.list()
    assert listed["truncated"] is False
    assert listed["delimitedPrefixes"] == []
    (obj,) = listed["objects"]
    assert obj.key == "one"
    assert obj.size == 1
    assert obj.etag == md5_hex(b"1")
    assert obj.httpEtag == f'"{md5_hex(b"1")}"'
    assert isinstance(obj.uploaded, datetime.datetime)


async def test_list_with_prefix_and_start_after(r2):
    for key in ("img/1", "img/2", "img/3", "imgx", "other/1"):
        await r2.put(key, key)
    by_prefix = await r2.list(prefix="img/")
    assert [o.key for o in by_prefix["objects"]] == ["img/1", "img/2", "img/3"]
    after = await r2.list(prefix="img/", startAfter="img/1")
    assert [o.key for o in after["objects"]] == ["img/2", "img/3"]


async def test_list_with_delimiter(r2):
    for key in ("a/1", "a/2", "a/b/3", "b/1", "top", "zz/9"):
        await r2.put(key, key)

    root = await r2.list(delimiter="/")
    assert [o.key for o in root["objects"]] == ["top"]
    assert root["delimitedPrefixes"] == ["a/", "b/", "zz/"]

    inside = await r2.list(prefix="a/", delimiter="/")
    assert [o.key for o in inside["objects"]] == ["a/1", "a/2"]
    assert inside["delimitedPrefixes"] == ["a/b/"]


async def test_list_with_delimiter_pages_over_prefixes(r2):
    for group in ("a", "b", "c", "d", "e"):
        for i in range(3):
            await r2.put(f"{group}/{i}", "x")
    prefixes, cursor = [], None
    for _ in range(10):
        options = {"delimiter": "/", "limit": 2}
        if cursor:
            options["cursor"] = cursor
        page = await r2.list(**options)
        assert page["objects"] == []
        prefixes.extend(page["delimitedPrefixes"])
        if not page["truncated"]:
            break
        cursor = page["cursor"]
    assert prefixes == ["a/", "b/", "c/", "d/", "e/"]


async def test_list_includes_metadata_only_when_asked(r2):
    await r2.put(
        "meta",
        b"x",
        httpMetadata={"contentType": "image/webp"},
        customMetadata={"owner": "bob"},
    )
    plain = (await r2.list())["objects"][0]
    assert plain.httpMetadata.get("contentType") is None
    assert plain.customMetadata == {}

    full = (await r2.list(include=["httpMetadata", "customMetadata"]))["objects"][0]
    assert full.httpMetadata["contentType"] == "image/webp"
    assert full.customMetadata == {"owner": "bob"}

    custom_only = (await r2.list(include=["customMetadata"]))["objects"][0]
    assert custom_only.customMetadata == {"owner": "bob"}
    assert custom_only.httpMetadata.get("contentType") is None


@pytest.mark.parametrize("bad_range", [{"offset": 20}, {"suffix": 0}, {"offset": 0, "length": 0}])
async def test_unsatisfiable_range_is_an_error(r2, bad_range):
    await r2.put("small", b"0123456789")
    with pytest.raises(Exception):
        await r2.get("small", range=bad_range)


async def test_http_metadata_has_every_field_none_when_unset(r2):
    obj = await r2.put("plain", b"x", httpMetadata={"contentType": "text/plain"})
    expected = {
        "contentType": "text/plain",
        "contentLanguage": None,
        "contentDisposition": None,
        "contentEncoding": None,
        "cacheControl": None,
        "cacheExpiry": None,
    }
    assert obj.httpMetadata == expected
    assert (await r2.head("plain")).httpMetadata == expected


async def test_none_in_http_metadata_is_not_unset(r2):
    # The SDK sends None as JS null: workerd stores "null" for text fields and
    # refuses it for cacheExpiry, so copying `obj.httpMetadata` as is fails.
    obj = await r2.put("n", b"x", httpMetadata={"contentType": None})
    assert obj.httpMetadata["contentType"] == "null"
    with pytest.raises(Exception, match="cacheExpiry"):
        await r2.put("n", b"x", httpMetadata=obj.httpMetadata)


async def test_custom_metadata_values_become_strings(r2):
    obj = await r2.put("c", b"x", customMetadata={"count": 3, "flag": True})
    assert obj.customMetadata == {"count": "3", "flag": "true"}


async def test_only_if_etag_must_not_be_quoted(r2):
    stored = await r2.put("q", b"x")
    with pytest.raises(Exception, match="quotes"):
        await r2.get("q", onlyIf={"etagMatches": stored.httpEtag})
    wildcard = await r2.get("q", onlyIf={"etagMatches": "*"})
    assert await read_bytes(wildcard) == b"x"


async def test_get_and_head_report_the_full_range_by_default(r2):
    await r2.put("r", b"0123456789")
    assert (await r2.get("r")).range["offset"] == 0
    assert (await r2.get("r")).range["length"] == 10
    assert (await r2.head("r")).range["length"] == 10


async def test_list_limit_out_of_bounds_is_an_error(r2):
    with pytest.raises(Exception, match="10022"):
        await r2.list(limit=1001)


async def test_a_read_body_cannot_be_read_or_put_again(r2):
    await r2.put("once", b"data")
    obj = await r2.get("once")
    assert await read_bytes(obj) == b"data"
    with pytest.raises(TypeError):
        await obj.arrayBuffer()
    with pytest.raises(TypeError):
        await r2.put("again", obj.body)


# -- None in options: the SDK sends it as JS null, and workerd's option structs refuse null
# for most fields. These are the exact calls; the Miniflare side is workerd's own check (the
# bridge sends JSON null as null), so the messages below are workerd's, word for word.


def js_error_name(error: BaseException) -> str:
    """The JS error's name: MiniflareError carries it, a local error is its Python type."""
    return getattr(error, "name", type(error).__name__)


def refused_null(field: str, struct: str, js_type: str) -> str:
    return (
        f"Incorrect type for the '{field}' field on '{struct}': "
        f"the provided value is not of type '{js_type}'."
    )


async def test_list_with_cursor_none_is_refused_as_on_workers(r2):
    # What services/images/updates.py sent on its first page: soft-deleted images were never
    # purged on Cloudflare.
    await r2.put("variants/x/thumb.webp", b"x")
    with pytest.raises(Exception) as caught:
        await r2.list(prefix="variants/x/", cursor=None)
    assert str(caught.value) == refused_null("cursor", "ListOptions", "string")
    assert js_error_name(caught.value) == "TypeError"


async def test_list_with_absent_options_left_out_pages_through_everything(r2):
    from pixhaven.interop import given

    for i in range(5):
        await r2.put(f"variants/x/{i}", b"x")
    keys, cursor = [], None
    while True:
        page = await r2.list(**given(prefix="variants/x/", limit=2, cursor=cursor))
        keys += [o.key for o in page["objects"]]
        if not page["truncated"]:
            break
        cursor = page["cursor"]
    assert keys == [f"variants/x/{i}" for i in range(5)]


@pytest.mark.parametrize(
    ("field", "js_type"),
    [
        ("prefix", "string"),
        ("cursor", "string"),
        ("delimiter", "string"),
        ("startAfter", "string"),
        ("include", "Array"),
    ],
)
async def test_list_option_none_is_a_type_error(r2, field, js_type):
    with pytest.raises(Exception) as caught:
        await r2.list(**{field: None})
    assert str(caught.value) == refused_null(field, "ListOptions", js_type)
    assert js_error_name(caught.value) == "TypeError"


async def test_list_limit_none_reads_as_zero(r2):
    with pytest.raises(Exception, match=r"10022"):
        await r2.list(limit=None)


@pytest.mark.parametrize(
    ("field", "js_type"),
    [
        ("etagMatches", "string"),
        ("etagDoesNotMatch", "string"),
        ("uploadedBefore", "date"),
        ("uploadedAfter", "date"),
    ],
)
async def test_only_if_field_none_is_a_type_error_on_get_and_put(r2, field, js_type):
    await r2.put("c", b"x")
    for call in (
        lambda: r2.get("c", onlyIf={field: None}),
        lambda: r2.put("c", b"y", onlyIf={field: None}),
    ):
        with pytest.raises(Exception) as caught:
            await call()
        assert str(caught.value) == refused_null(field, "Conditional", js_type)
        assert js_error_name(caught.value) == "TypeError"
    assert await read_bytes(await r2.get("c")) == b"x"


@pytest.mark.parametrize(
    ("field", "js_type"),
    [
        ("customMetadata", "object"),
        ("md5", "JsBufferSource or string"),
        ("sha1", "JsBufferSource or string"),
        ("sha256", "JsBufferSource or string"),
    ],
)
async def test_put_option_none_is_a_type_error(r2, field, js_type):
    with pytest.raises(Exception) as caught:
        await r2.put("p", b"x", **{field: None})
    assert str(caught.value) == refused_null(field, "PutOptions", js_type)
    assert js_error_name(caught.value) == "TypeError"
    assert await r2.head("p") is None


async def test_null_where_workerd_takes_it(r2):
    # workerd reads null as "no options" for these, so None is harmless here (Miniflare).
    await r2.put("t", b"0123456789", None)
    await r2.put("t", b"0123456789", onlyIf=None, httpMetadata=None)
    assert await read_bytes(await r2.get("t", None)) == b"0123456789"
    assert await read_bytes(await r2.get("t", onlyIf=None, range=None)) == b"0123456789"
    got = await r2.get("t", onlyIf={"etagDoesNotMatch": "other", "secondsGranularity": None})
    assert await read_bytes(got) == b"0123456789"
    assert [o.key for o in (await r2.list(None))["objects"]] == ["t"]


async def test_range_numbers_none_read_as_zero(r2):
    await r2.put("t", b"0123456789")
    assert await read_bytes(await r2.get("t", range={"offset": None})) == b"0123456789"
    for bad in ({"offset": 2, "length": None}, {"suffix": None}):
        with pytest.raises(Exception, match=r"10039"):
            await r2.get("t", range=bad)


# -- What the SDK refuses before workerd sees it (python_to_rpc): on the Miniflare side this is
# the bridge's model of the SDK, not Miniflare.


async def test_tuples_and_bytearrays_cannot_be_sent(r2):
    with pytest.raises(TypeError, match=r"^<class 'bytearray'> cannot be sent over RPC\.$"):
        await r2.put("k", bytearray(b"x"))
    with pytest.raises(TypeError, match=r"^<class 'tuple'> cannot be sent over RPC\.$"):
        await r2.list(include=("httpMetadata",))
    with pytest.raises(TypeError, match=r"^<class 'tuple'> cannot be sent over RPC\.$"):
        await r2.delete(("a", "b"))
    assert await r2.head("k") is None


async def test_array_buffers_come_back_as_memoryviews(r2):
    # workers-runtime-sdk 1.9.5 converts a returned ArrayBuffer with Pyodide's to_py():
    # `.to_bytes()` does not exist on it. (On the Miniflare side: the bridge's conversion.)
    put = await r2.put("m", b"data")
    buffer = await (await r2.get("m")).arrayBuffer()
    assert isinstance(buffer, memoryview) and bytes(buffer) == b"data"
    assert isinstance(put.checksums.md5, memoryview)
    assert bytes(put.checksums.md5) == hashlib.md5(b"data").digest()

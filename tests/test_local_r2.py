"""Local-only properties of LocalR2: what Miniflare cannot show us.

Key → file-name safety, crash-safe atomic writes, concurrent readers and writers,
persistence, and the Python stream/buffer look-alikes.
"""

import asyncio
import datetime
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pixhaven.local.bindings.r2 import LocalR2, R2Error
from pixhaven.local.bindings.r2_storage import (
    TAIL_READ,
    TEMP_PREFIX,
    ObjectFiles,
    escape_key,
    file_name_for,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
HOSTILE_KEYS = [
    "../outside",
    "../../etc/passwd",
    "/absolute/path",
    "a/../../b",
    "..",
    ".",
    ".hidden",
    "..\\windows\\path",
    "C:\\drive",
    "nul",
    "x\x00y",
    "%2e%2e%2fencoded",
    "",
    "é" * 500,  # 1000 bytes: too long to escape into a file name, so hashed
]


def all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def test_hostile_keys_stay_inside_the_bucket_folder(tmp_path):
    root = tmp_path / "bucket"
    bucket = LocalR2(root)
    for key in HOSTILE_KEYS:
        await bucket.put(key, key.encode())

    assert sorted(p.name for p in tmp_path.iterdir()) == ["bucket"]
    objects_dir = (root / "objects").resolve()
    for path in all_files(root):
        assert path.resolve().parent == objects_dir
        assert not path.name.startswith(".")
    for key in HOSTILE_KEYS:
        assert bytes(await (await bucket.get(key)).arrayBuffer()) == key.encode()
    listed = await bucket.list()
    assert [o.key for o in listed["objects"]] == sorted(HOSTILE_KEYS)


def test_file_names_are_unique_even_on_case_insensitive_file_systems():
    keys = ["A", "a", "%41", "%61", "Ab", "aB", "ab"]
    names = [file_name_for(k) for k in keys]
    assert len({n.lower() for n in names}) == len(keys)
    assert all(n == n.lower() for n in names)


def test_escaping_keeps_prefixes():
    assert escape_key("img/2024/a.png").startswith(escape_key("img/20"))


@pytest.mark.parametrize("data_size", [0, 10, TAIL_READ, 300_000])
@pytest.mark.parametrize("metadata_size", [10, TAIL_READ - 100, 3 * TAIL_READ])
def test_object_files_read_back_whatever_the_sizes(tmp_path, data_size, metadata_size):
    """The metadata is found at the end of the file whether it fits the one read of the
    file's tail with the trailer, or does not (then read on its own)."""
    files = ObjectFiles(tmp_path)
    data = bytes(range(256)) * (data_size // 256) + b"x" * (data_size % 256)
    metadata = {"key": "k", "size": data_size, "note": "m" * metadata_size}
    files.write("k", data, metadata)
    assert files.read("k", lambda meta: (0, meta["size"])) == (metadata, data)
    if data_size >= 7:
        assert files.read("k", lambda meta: (2, 5))[1] == data[2:7]


@pytest.mark.parametrize(
    "key",
    ["images/landscape/35390bfe-da66-4144-a365-a157044efca8.jpg", "a_b-c/d.e", "", "./..", "/"],
)
def test_usual_keys_escape_like_any_other(key):
    """The two-replacement path for keys the app writes gives what escaping each
    character gives (the file names already on disk)."""
    by_character = "".join(
        c if c in "abcdefghijklmnopqrstuvwxyz0123456789_-" else f"%{ord(c):02x}" for c in key
    )
    assert escape_key(key) == by_character
    assert escape_key(key + "Ä") == by_character + "%c3%84"  # the general path


async def test_prefix_listing_finds_hashed_long_keys(tmp_path):
    bucket = LocalR2(tmp_path)
    long_key = "big/" + "x" * 900
    await bucket.put(long_key, b"1")
    await bucket.put("big/small", b"2")
    await bucket.put("other", b"3")
    listed = await bucket.list(prefix="big/")
    assert [o.key for o in listed["objects"]] == ["big/small", long_key]


async def test_too_long_key_is_refused(tmp_path):
    with pytest.raises(R2Error, match="10020"):
        await LocalR2(tmp_path).put("k" * 1025, b"x")


async def test_objects_persist_across_instances(tmp_path):
    await LocalR2(tmp_path).put("kept", b"value", customMetadata={"a": "b"})
    again = await LocalR2(tmp_path).get("kept")
    assert bytes(await again.arrayBuffer()) == b"value"
    assert again.customMetadata == {"a": "b"}


async def test_foreign_files_in_the_folder_are_ignored(tmp_path):
    bucket = LocalR2(tmp_path)
    await bucket.put("real", b"x")
    (tmp_path / "objects" / "stray").write_bytes(b"not an object")
    (tmp_path / "objects" / f"{TEMP_PREFIX}unfinished").write_bytes(b"half")
    assert await bucket.get("stray") is None
    assert [o.key for o in (await bucket.list())["objects"]] == ["real"]


def test_stale_temporary_files_are_removed_on_open(tmp_path):
    objects = tmp_path / "objects"
    objects.mkdir()
    stale = objects / f"{TEMP_PREFIX}stale"
    fresh = objects / f"{TEMP_PREFIX}fresh"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    LocalR2(tmp_path)
    assert not stale.exists()
    assert fresh.exists()  # may belong to another process writing right now


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pixhaven.local.bindings.r2 import LocalR2

    async def main():
        bucket = LocalR2(sys.argv[1])
        round = 0
        while True:
            for index in range(4):
                size = 200_000 + 50_000 * ((round + index) % 7)
                payload = bytes([(round + index) % 256]) * size
                await bucket.put(f"obj-{index}", payload, customMetadata={"round": str(round)})
                if round == 0 and index == 0:
                    print("started", flush=True)
            round += 1

    asyncio.run(main())
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
async def test_a_writer_killed_mid_write_never_leaves_a_torn_object(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src"))
    for attempt in range(3):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert writer.stdout.readline().strip() == b"started"
        time.sleep(0.05 + 0.07 * attempt)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()

        bucket = LocalR2(tmp_path)
        listed = await bucket.list(include=["customMetadata"])
        assert {o.key for o in listed["objects"]} <= {f"obj-{i}" for i in range(4)}
        for listed_object in listed["objects"]:
            obj = await bucket.get(listed_object.key)
            data = bytes(await obj.arrayBuffer())
            assert len(data) == obj.size
            assert hashlib.md5(data).hexdigest() == obj.etag
            assert len(set(data)) == 1  # one payload, not a mix of two
            assert obj.customMetadata["round"].isdigit()


async def test_concurrent_writers_and_readers_see_whole_objects(tmp_path):
    bucket = LocalR2(tmp_path)
    payloads = [bytes([i]) * (100_000 + i * 1000) for i in range(8)]
    digests = {hashlib.md5(p).hexdigest() for p in payloads}
    await bucket.put("hot", payloads[0])

    async def writer(payload):
        for _ in range(5):
            await bucket.put("hot", payload)

    async def reader():
        for _ in range(20):
            obj = await bucket.get("hot")
            data = bytes(await obj.arrayBuffer())
            assert hashlib.md5(data).hexdigest() == obj.etag
            assert obj.etag in digests

    await asyncio.gather(*(writer(p) for p in payloads), *(reader() for _ in range(8)))


async def test_conditional_puts_are_atomic_within_one_instance(tmp_path):
    bucket = LocalR2(tmp_path)
    stored = await bucket.put("lock", b"v0")
    # Everyone tries to replace the version they saw; exactly one may win.
    results = await asyncio.gather(
        *(
            bucket.put("lock", f"v{i}".encode(), onlyIf={"etagMatches": stored.etag})
            for i in range(1, 11)
        )
    )
    assert sum(r is not None for r in results) == 1


async def test_body_stream_reads_in_pieces_and_iterates(tmp_path):
    bucket = LocalR2(tmp_path)
    data = os.urandom(200_000)
    await bucket.put("blob", data)

    obj = await bucket.get("blob")
    first = await obj.body.read(10)
    rest = await obj.body.read()
    assert first + rest == data
    assert obj.bodyUsed
    assert await obj.body.read() == b""

    chunks = [chunk async for chunk in (await bucket.get("blob")).body]
    assert len(chunks) > 1 and b"".join(chunks) == data


async def test_put_accepts_buffers_and_async_iterables(tmp_path):
    bucket = LocalR2(tmp_path)
    await bucket.put("a", b"abc")
    buffer = await (await bucket.get("a")).arrayBuffer()
    assert bytes(buffer) == b"abc" and len(buffer) == 3

    await bucket.put("from-buffer", buffer)

    async def generate():
        yield b"ab"
        yield b"cd"

    await bucket.put("from-generator", generate())
    assert await (await bucket.get("from-buffer")).text() == "abc"
    assert await (await bucket.get("from-generator")).text() == "abcd"


async def test_uploaded_is_naive_utc_now(tmp_path):
    obj = await LocalR2(tmp_path).put("t", b"x")
    assert obj.uploaded.tzinfo is None
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert abs((now - obj.uploaded).total_seconds()) < 5


async def test_write_http_metadata_fills_response_headers(tmp_path):
    obj = await LocalR2(tmp_path).put(
        "h", b"x", httpMetadata={"contentType": "image/png", "cacheControl": "no-store"}
    )
    headers = {}
    obj.writeHttpMetadata(headers)
    assert headers == {"content-type": "image/png", "cache-control": "no-store"}


# -- serving: large bodies read as they are consumed, plain files for a web server in front --


async def test_a_large_body_is_read_from_its_version_even_when_replaced(tmp_path):
    bucket = LocalR2(tmp_path)
    first = os.urandom(3 * 1024 * 1024 + 17)  # past WHOLE_BODY_LIMIT: read in chunks
    await bucket.put("big", first)
    obj = await bucket.get("big")
    chunks = [await obj.body.read(100_000)]
    await bucket.put("big", b"replaced while the first version was being sent")
    chunks += [chunk async for chunk in obj.body]
    assert b"".join(chunks) == first
    assert max(len(chunk) for chunk in chunks[1:]) == 64 * 1024
    assert await obj.body.read() == b""
    assert (await (await bucket.get("big")).bytes()).startswith(b"replaced")


async def test_a_large_range_is_read_in_chunks_and_exactly(tmp_path):
    bucket = LocalR2(tmp_path)
    data = os.urandom(5 * 1024 * 1024)
    await bucket.put("big", data)
    obj = await bucket.get("big", range={"offset": 123, "length": 2 * 1024 * 1024})
    assert (obj.range["offset"], obj.range["length"]) == (123, 2 * 1024 * 1024)
    assert await obj.arrayBuffer() == data[123 : 123 + 2 * 1024 * 1024]
    with pytest.raises(TypeError):
        await obj.text()  # read once, like a ReadableStream
    suffix = await bucket.get("big", range={"suffix": 1_500_000})
    assert await suffix.bytes() == data[-1_500_000:]


async def test_plain_file_holds_exactly_the_current_version(tmp_path):
    bucket = LocalR2(tmp_path)
    assert await bucket.plain_file("images/a.jpg") is None
    await bucket.put("images/a.jpg", b"first version", httpMetadata={"contentType": "image/jpeg"})
    meta, path = await bucket.plain_file("images/a.jpg")
    assert path.read_bytes() == b"first version"
    assert meta.httpMetadata["contentType"] == "image/jpeg"
    assert meta.size == len(b"first version")
    assert path.parent == tmp_path / "plain"
    assert all(c in "0123456789abcdef-" for c in path.name)  # nothing to escape in a URL
    assert (await bucket.plain_file("images/a.jpg"))[1] == path  # made once per version

    await bucket.put("images/a.jpg", b"second")
    assert not path.exists()  # a write removes the old version's copy
    meta2, path2 = await bucket.plain_file("images/a.jpg")
    assert path2 != path and path2.read_bytes() == b"second" and meta2.etag != meta.etag
    await bucket.delete("images/a.jpg")
    assert not path2.exists()
    assert await bucket.plain_file("images/a.jpg") is None
    # Plain copies are no objects: listings never show them.
    assert (await bucket.list())["objects"] == []


# What plain_file read is remembered per key (r2_storage, "_RememberedCopy"); these would
# fail if what it remembered outlived the object version or the copy it describes.


async def test_plain_file_follows_a_replaced_object(tmp_path):
    bucket = LocalR2(tmp_path)
    await bucket.put("k", b"version 1", httpMetadata={"contentType": "image/png"})
    first, first_path = await bucket.plain_file("k")
    assert (await bucket.plain_file("k"))[1] == first_path  # now remembered
    # The same size: only the version tells the two apart.
    await bucket.put("k", b"version 2", httpMetadata={"contentType": "image/gif"})
    second, second_path = await bucket.plain_file("k")
    assert second.version != first.version and second.etag != first.etag
    assert second_path != first_path and second_path.read_bytes() == b"version 2"
    assert second.httpMetadata["contentType"] == "image/gif"
    await bucket.delete("k")
    assert await bucket.plain_file("k") is None


@pytest.mark.parametrize("same_bytes", [False, True])
async def test_plain_file_follows_what_another_process_does_to_the_object(tmp_path, same_bytes):
    """Another `LocalR2` on the folder, as another `pixhaven dev --workers` process has:
    its writes and deletes reach this instance only through the files."""
    serving, other = LocalR2(tmp_path), LocalR2(tmp_path)
    await other.put("k", b"version 1", customMetadata={"round": "1"})
    first, first_path = await serving.plain_file("k")
    assert (await serving.plain_file("k"))[1] == first_path  # now remembered

    replacement = b"version 1" if same_bytes else b"version 2"
    await other.put("k", replacement, customMetadata={"round": "2"})
    second, second_path = await serving.plain_file("k")
    stored = await other.head("k")
    assert (second.version, second.etag) == (stored.version, stored.etag)
    assert second.customMetadata == {"round": "2"}
    assert second_path != first_path and second_path.read_bytes() == replacement
    assert not first_path.exists()

    await other.delete("k")
    assert await serving.plain_file("k") is None
    # Put back with the same bytes and the same metadata: a new version all the same.
    await other.put("k", replacement, customMetadata={"round": "2"})
    third, third_path = await serving.plain_file("k")
    assert third.version == (await other.head("k")).version != second.version
    assert third_path.read_bytes() == replacement


async def test_plain_file_follows_a_replaced_object_whose_old_copy_is_still_there(tmp_path):
    """Another process's write replaces the object file, then removes the key's copies; in
    between, or for good if it crashed there, the old version's copy is still in `plain/`."""
    serving, other = LocalR2(tmp_path), LocalR2(tmp_path)
    await other.put("k", b"version 1")
    first, first_path = await serving.plain_file("k")
    assert (await serving.plain_file("k"))[1] == first_path  # now remembered
    kept = first_path.read_bytes()
    await other.put("k", b"version 2")
    first_path.write_bytes(kept)  # the clean-up not done (yet)
    second, second_path = await serving.plain_file("k")
    assert second.version == (await other.head("k")).version != first.version
    assert second_path.read_bytes() == b"version 2"


async def test_plain_file_makes_the_copy_again_when_it_is_gone(tmp_path):
    """The object is unchanged but its copy is gone: removed by hand, or by the clean-up of
    another process's write racing the making of the copy. The web server must still be
    handed a file that exists."""
    bucket = LocalR2(tmp_path)
    await bucket.put("k", b"data")
    meta, path = await bucket.plain_file("k")
    assert (await bucket.plain_file("k"))[1] == path  # now remembered
    path.unlink()
    again, again_path = await bucket.plain_file("k")
    assert again_path == path and again_path.read_bytes() == b"data"
    assert again.version == meta.version
    for copy in (tmp_path / "plain").iterdir():
        copy.unlink()
    assert (await bucket.plain_file("k"))[1].read_bytes() == b"data"


async def test_plain_file_pairs_each_version_with_its_own_copy_under_concurrent_writes(
    tmp_path,
):
    serving, writing = LocalR2(tmp_path), LocalR2(tmp_path)
    payloads = [bytes([i]) * 50_000 for i in range(6)]  # one size: only versions differ
    await writing.put("hot", payloads[0])

    async def writer(payload):
        for _ in range(4):
            await writing.put("hot", payload)

    async def reader():
        for _ in range(30):
            meta, path = await serving.plain_file("hot")
            assert path.name.endswith("-" + meta.version)
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue  # replaced since, and its copy removed: as nginx would see it
            assert hashlib.md5(data).hexdigest() == meta.etag
            await asyncio.sleep(0)

    await asyncio.gather(*(writer(p) for p in payloads), *(reader() for _ in range(4)))
    meta, path = await serving.plain_file("hot")
    assert meta.etag == (await writing.head("hot")).etag
    assert hashlib.md5(path.read_bytes()).hexdigest() == meta.etag


# Another process acting on the key at the worst moments. The moments are made exact by
# running the other process's step inside `os.replace`, when one of them renames its
# finished file into place.


def _run_at_renaming_into(folder: Path, step, monkeypatch, *, after: bool = False) -> None:
    """Run `step()` once, at the first rename of a file into `folder`: just before it, or
    just after it with `after`."""
    rename = os.replace
    pending = [step]

    def replace(source, target, *args, **kwargs):
        due = bool(pending) and Path(target).parent == folder
        if due and not after:
            pending.pop()()
        rename(source, target, *args, **kwargs)
        if due and after:
            pending.pop()()

    monkeypatch.setattr(os, "replace", replace)


def _object(key: str, data: bytes, version: str) -> tuple[str, bytes, dict]:
    return key, data, {"key": key, "version": version, "size": len(data), "uploaded": 0}


def test_a_copy_made_while_another_process_deletes_the_object_is_not_kept(tmp_path, monkeypatch):
    """The copy is made from the file opened before the delete, and the deleting process
    removed the key's copies before it existed: kept, it would stay in `plain/` for good,
    and the web server would be sent the bytes of a deleted object."""
    serving, other = ObjectFiles(tmp_path), ObjectFiles(tmp_path)
    other.write(*_object("k", b"data", "v1"))
    _run_at_renaming_into(tmp_path / "plain", lambda: other.delete("k"), monkeypatch)
    assert serving.plain_copy("k") is None
    assert list((tmp_path / "plain").iterdir()) == []


def test_a_copy_made_while_another_process_writes_the_object_is_of_the_new_version(
    tmp_path, monkeypatch
):
    serving, other = ObjectFiles(tmp_path), ObjectFiles(tmp_path)
    other.write(*_object("k", b"version 1", "v1"))
    step = lambda: other.write(*_object("k", b"version 2", "v2"))  # noqa: E731
    _run_at_renaming_into(tmp_path / "plain", step, monkeypatch)
    metadata, path = serving.plain_copy("k")
    assert metadata["version"] == "v2" and path.read_bytes() == b"version 2"
    assert [p.name for p in (tmp_path / "plain").iterdir()] == [path.name]


def test_a_write_keeps_the_copy_another_process_made_of_the_new_version(tmp_path, monkeypatch):
    """Between renaming the new object file into place and removing the key's copies, the
    writer can find that another process has already made the new version's copy and sent
    the web server to it: only the older versions' copies go."""
    writing, serving = ObjectFiles(tmp_path), ObjectFiles(tmp_path)
    writing.write(*_object("k", b"version 1", "v1"))
    old_path = serving.plain_copy("k")[1]
    made = []  # the new version's copy, made just after its object file is renamed into place
    step = lambda: made.append(serving.plain_copy("k"))  # noqa: E731
    _run_at_renaming_into(writing.directory, step, monkeypatch, after=True)
    writing.write(*_object("k", b"version 2", "v2"))
    ((metadata, path),) = made
    assert metadata["version"] == "v2"
    assert path.read_bytes() == b"version 2"  # still there after the writer's clean-up
    assert not old_path.exists()
    assert serving.plain_copy("k") == (metadata, path)


def test_object_files_remember_a_bounded_number_of_plain_copies(tmp_path):
    files = ObjectFiles(tmp_path, remembered_plain_copies=3)
    for i in range(5):
        files.write(f"k{i}", b"x", {"key": f"k{i}", "version": f"v{i}", "size": 1, "uploaded": 0})
    for i in range(5):
        files.plain_copy(f"k{i}")
    files.plain_copy("k2")  # used again: the most recent
    # What is remembered is private; its size is the property under test.
    assert list(files._remembered) == ["k3", "k4", "k2"]
    # A forgotten key is read again, as on a first call.
    metadata, path = files.plain_copy("k0")
    assert metadata["version"] == "v0" and path.read_bytes() == b"x"
    assert list(files._remembered) == ["k4", "k2", "k0"]

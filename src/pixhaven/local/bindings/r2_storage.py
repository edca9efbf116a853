"""How the local R2 bucket lays objects out on disk.

One object is one file in `<root>/objects/`, holding the data followed by its
metadata (JSON) and a fixed 16-byte trailer:

    [data][metadata JSON, UTF-8][8-byte big-endian JSON length][8-byte MAGIC]

A write goes to a temporary file in the same directory, is fsync'ed, and is then
renamed over the final name with `os.replace` (atomic on POSIX and Windows), so a
reader opens either the whole old object or the whole new one: data and metadata
can never disagree, and a crash leaves at most a stray temporary file, which
listings ignore and `ObjectFiles` removes once it is old.

File names are derived from keys so that no key can name a path outside the folder:
characters other than `[a-z0-9_-]` (including `.`, `/`, `%` and capitals) are written
as `%xx` escapes of their UTF-8 bytes, in lower case. The mapping is one-to-one, keeps
names valid on case-insensitive file systems, never yields `.`/`..` or a leading dot
(the prefix reserved for temporary files), and keeps key prefixes as name prefixes,
which makes prefix listing cheap. The empty key, and keys whose escaped form would be
too long for a file name, are stored under `=<sha256 of key>`; listing reads their key
back from the metadata.

Reads are made for serving: `read` returns a small body as bytes, and a large one as a
`FileSpan` over the same open handle, which `FileBodyStream` (r2_objects.py) reads chunk by
chunk. Handing an object's bytes to a web server in front (README, "Behind nginx or
Caddy") needs a file holding those bytes alone: `plain_copy` makes one, once per version,
in `<root>/plain/`, named `<sha256 of key>-<version>` (hex only: nothing to escape in a
URL). A write of the key removes the older versions' copies and a delete all of them; a
copy whose object was written over or deleted while it was being made is removed by its
maker, whose look at the object file comes after the copy exists.

`plain_copy` runs on every object request behind such a server, so what it read is
remembered per key (`_RememberedCopy`) and reused while one `os.stat` finds the same object
file and a second finds the copy still there. Object files are never modified in place,
only replaced (a new inode) or removed, and a write stamps its file's mtime with a
nanosecond clock, so the same (device, inode, mtime, size) is the same version, whichever
process sharing the folder wrote it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import BinaryIO

MAGIC = b"PXHR2v1\n"
TRAILER = struct.Struct(">Q8s")
MAX_ESCAPED_NAME = 200  # below every common file system's 255-byte limit
HASHED_NAME_MARK = "="  # never produced by escaping
TEMP_PREFIX = ".tmp-"
STALE_TEMP_SECONDS = 3600
# Bodies up to this size are read whole: one read, sent in one piece. Larger ones are read
# in chunks as they are sent, so memory stays at one chunk whatever the object's size.
WHOLE_BODY_LIMIT = 1024 * 1024
# `plain_copy` makes a copy again when the object was written over while it made one, up to
# this many copies in all.
PLAIN_COPY_ATTEMPTS = 3
_SAFE_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
# Keys whose plain copy `plain_copy` remembers (least recently used forgotten first): the
# objects being served at the moment, at a few hundred bytes each.
REMEMBERED_PLAIN_COPIES = 4096


# Keys the app writes (`images/landscape/<uuid>.jpg`) use only these characters, and of them
# only `.` and `/` are escaped: two replacements instead of a loop over every character, on
# every object read.
_USUAL_KEY = re.compile(r"[a-z0-9_\-./]*")


def escape_key(key: str) -> str:
    """The escaped form of a key (or key prefix); see the module docstring."""
    if _USUAL_KEY.fullmatch(key):
        return key.replace(".", "%2e").replace("/", "%2f")
    parts = []
    for character in key:
        if character in _SAFE_CHARACTERS:
            parts.append(character)
        else:
            parts.extend(f"%{byte:02x}" for byte in character.encode("utf-8", "surrogatepass"))
    return "".join(parts)


def unescape_name(name: str) -> str:
    """The key an escaped (not hashed) file name stands for."""
    raw = bytearray()
    index = 0
    while index < len(name):
        if name[index] == "%":
            raw.append(int(name[index + 1 : index + 3], 16))
            index += 3
        else:
            raw.extend(name[index].encode("ascii"))
            index += 1
    return raw.decode("utf-8", "surrogatepass")


def file_name_for(key: str) -> str:
    escaped = escape_key(key)
    if 0 < len(escaped) <= MAX_ESCAPED_NAME:
        return escaped
    return HASHED_NAME_MARK + _key_hash(key)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class FileSpan:
    """`length` bytes at `offset` of an open object file: a large body, read as it is sent.
    The handle is the one the metadata came from, so the bytes are that version's even if
    the key is replaced meanwhile (POSIX keeps a replaced file readable while it is open)."""

    def __init__(self, handle, offset: int, length: int):
        self.handle = handle
        self.offset = offset
        self.length = length


class _RememberedCopy:
    """What `plain_copy` found for a key, and how to tell it still holds."""

    __slots__ = ("object_path", "identity", "metadata", "plain_path", "plain_name")

    def __init__(self, object_path: str, identity: tuple, metadata: dict, plain_path: Path):
        self.object_path = object_path
        self.identity = identity
        self.metadata = metadata
        self.plain_path = plain_path
        self.plain_name = str(plain_path)


def _identity(status: os.stat_result) -> tuple[int, int, int, int]:
    return (status.st_dev, status.st_ino, status.st_mtime_ns, status.st_size)


def _identity_at(path: str) -> tuple[int, int, int, int] | None:
    """The identity of the file at `path` now; None when there is none."""
    try:
        return _identity(os.stat(path))
    except FileNotFoundError:
        return None


class ObjectFiles:
    """Reads and atomically writes object files under `root/objects`."""

    def __init__(self, root: Path, remembered_plain_copies: int = REMEMBERED_PLAIN_COPIES):
        self.directory = Path(root) / "objects"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.plain_directory = Path(root) / "plain"
        # For the read paths, which join a file name to it on every request: a string
        # join, where a pathlib one costs microseconds.
        self._directory_prefix = os.path.join(self.directory, "")
        # Filled in the event loop's thread and in worker threads (a copy being made, a
        # write or delete forgetting its key), hence the lock.
        self._remembered: OrderedDict[str, _RememberedCopy] = OrderedDict()
        self._remembered_limit = remembered_plain_copies
        self._remembered_lock = threading.Lock()
        self._remove_stale_temporaries()

    def path_for(self, key: str) -> Path:
        return self.directory / file_name_for(key)

    def _path_string(self, key: str) -> str:
        return self._directory_prefix + file_name_for(key)

    def write(self, key: str, data: bytes, metadata: dict) -> None:
        encoded = json.dumps(metadata, separators=(",", ":")).encode("utf-8")
        temporary = self.directory / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        try:
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.write(encoded)
                handle.write(TRAILER.pack(len(encoded), MAGIC))
                handle.flush()
                os.fsync(handle.fileno())
            # `plain_copy` tells versions apart by (device, inode, mtime, size). A freed
            # inode can come back for the next write of the key, with the same size, and
            # file systems stamp mtimes from a clock ticking every few milliseconds; a
            # nanosecond clock's reading makes that identity a new one for every write.
            stamp = time.time_ns()
            os.utime(temporary, ns=(stamp, stamp))
            _replace(temporary, self.path_for(key))
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self._sync_directory()
        # Only the older versions' copies: another process may already have made the copy
        # of this one, and handed its name to the web server.
        self._remove_plain_copies(key, keep=metadata.get("version"))

    def read(self, key: str, choose_range=None):
        """(metadata, data) of one consistent version of `key`, or None if absent.

        `choose_range(metadata)` returns the `(offset, length)` of the data to read,
        or None for metadata only; it may raise to refuse the read. Everything comes
        from one open file handle, so a concurrent replace cannot mix two versions.
        `data` is bytes, or a `FileSpan` (which then owns the handle) when the range is
        longer than WHOLE_BODY_LIMIT.
        """
        try:
            opened = open(self._path_string(key), "rb")  # noqa: SIM115 (closed below or by the span)
        except FileNotFoundError:
            return None
        handle: BinaryIO | None = opened
        try:
            metadata = _read_metadata(opened)
            if metadata is None or metadata.get("key") != key:
                return None  # not an object file, or a hashed name of another key
            span = choose_range(metadata) if choose_range else None
            if span is None:
                return metadata, None
            offset, length = span
            if length > WHOLE_BODY_LIMIT:
                handle = None  # the span owns it now, and closes it
                return metadata, FileSpan(opened, offset, length)
            opened.seek(offset)
            return metadata, opened.read(length)
        finally:
            if handle is not None:
                handle.close()

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)
        self._remove_plain_copies(key)

    def plain_copy(self, key: str, make: bool = True) -> tuple[dict, Path | None] | None:
        """(metadata, path of a file holding exactly the data of that version), made now if
        there is none yet (with `make=False`: path None instead); None if `key` is absent.
        The metadata dict may be the one returned before: read it, do not change it."""
        with self._remembered_lock:
            remembered = self._remembered.get(key)
            if remembered is not None:
                self._remembered.move_to_end(key)
        if remembered is not None:
            now = _identity_at(remembered.object_path)
            if now is None:
                self._forget(key)
                return None
            # The copy is checked too: an operator may empty `plain/`, and the web server
            # must never be sent to a missing file.
            if now == remembered.identity and os.path.exists(remembered.plain_name):
                return remembered.metadata, remembered.plain_path
        object_path = self._path_string(key)
        for attempt in range(1, PLAIN_COPY_ATTEMPTS + 1):
            try:
                handle = open(object_path, "rb")  # noqa: SIM115 (closed by the `with` below)
            except FileNotFoundError:
                self._forget(key)
                return None
            with handle:
                # The identity of the file read, not of an earlier stat: it may have been
                # replaced in between.
                status = os.fstat(handle.fileno())
                identity = _identity(status)
                read = _read_metadata(handle, status.st_size)
                if read is None or read.get("key") != key:
                    self._forget(key)
                    return None
                metadata = read
                target = self.plain_directory / f"{_key_hash(key)}-{metadata['version']}"
                if target.exists():
                    break
                if not make:
                    return metadata, None
                self._make_plain_copy(handle, metadata, target)
            # Written over or deleted while the copy was made, maybe by another process
            # whose clean-up of the key's copies ran before this one existed: kept, it
            # would stay behind for good.
            now = _identity_at(object_path)
            if now == identity:
                break
            if now is not None and attempt == PLAIN_COPY_ATTEMPTS:
                # Written over during every attempt: the version read last is served (it
                # was current during this request); the key's next write or delete removes it.
                break
            target.unlink(missing_ok=True)
            if now is None:  # deleted: gone for this request too
                self._forget(key)
                return None
        self._remember(key, _RememberedCopy(object_path, identity, metadata, target))
        return metadata, target

    def _make_plain_copy(self, handle, metadata: dict, target: Path) -> None:
        self.plain_directory.mkdir(exist_ok=True)
        temporary = self.plain_directory / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        try:
            with open(temporary, "wb") as copy:
                handle.seek(0)
                remaining = metadata["size"]
                while remaining:
                    chunk = handle.read(min(remaining, WHOLE_BODY_LIMIT))
                    copy.write(chunk)
                    remaining -= len(chunk)
            os.chmod(temporary, 0o644)  # the web server in front may run as another user
            # A web server sending the file says Last-Modified from its mtime: the upload's.
            uploaded = metadata["uploaded"] / 1000
            os.utime(temporary, (uploaded, uploaded))
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def _remember(self, key: str, copy: _RememberedCopy) -> None:
        with self._remembered_lock:
            self._remembered[key] = copy
            self._remembered.move_to_end(key)
            while len(self._remembered) > self._remembered_limit:
                self._remembered.popitem(last=False)

    def _forget(self, key: str) -> None:
        with self._remembered_lock:
            self._remembered.pop(key, None)

    def _remove_plain_copies(self, key: str, keep: str | None = None) -> None:
        """Remove the key's plain copies, but the copy of version `keep`."""
        # Forgetting is not needed for correctness (the object file's identity has
        # changed), but the entry is of no more use.
        self._forget(key)
        if not self.plain_directory.is_dir():
            return
        kept = None if keep is None else f"{_key_hash(key)}-{keep}"
        for path in self.plain_directory.glob(f"{_key_hash(key)}-*"):
            if path.name != kept:
                path.unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> list[str]:
        """All keys starting with `prefix`, sorted like R2 (by UTF-8 bytes)."""
        escaped_prefix = escape_key(prefix)
        keys = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith(HASHED_NAME_MARK):
                    found = self._key_of_hashed(entry.path)
                    if found is not None and found.startswith(prefix):
                        keys.append(found)
                elif not name.startswith(".") and name.startswith(escaped_prefix):
                    keys.append(unescape_name(name))
        # Code point order is UTF-8 byte order, the order R2 lists keys in.
        keys.sort()
        return keys

    def _key_of_hashed(self, path: str) -> str | None:
        try:
            with open(path, "rb") as handle:
                metadata = _read_metadata(handle)
        except FileNotFoundError:
            return None
        return None if metadata is None else metadata.get("key")

    def _sync_directory(self) -> None:
        # Makes the rename itself durable; not possible (nor needed) on Windows.
        if os.name != "posix":
            return
        descriptor = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def _remove_stale_temporaries(self) -> None:
        # Left behind by a crash mid-write. Only old ones: another process sharing the
        # folder may be writing a fresh one right now.
        cutoff = time.time() - STALE_TEMP_SECONDS
        for path in self.directory.glob(f"{TEMP_PREFIX}*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except FileNotFoundError:
                pass


# The end of an object file read at once: the trailer and, nearly always, the metadata
# JSON before it (a few hundred bytes) in one read instead of two.
TAIL_READ = 4096


def _read_metadata(handle, file_size: int | None = None) -> dict | None:
    """The metadata of the object file open as `handle`, of `file_size` bytes (fstat'ed
    when not given); None if it is not a whole object file."""
    if file_size is None:
        file_size = os.fstat(handle.fileno()).st_size
    if file_size < TRAILER.size:
        return None
    tail_start = max(0, file_size - TAIL_READ)
    handle.seek(tail_start)
    tail = handle.read()
    if len(tail) != file_size - tail_start:
        return None  # changed under us (a finished object file never is)
    metadata_length, magic = TRAILER.unpack(tail[-TRAILER.size :])
    if magic != MAGIC or metadata_length > file_size - TRAILER.size:
        return None
    metadata_start = file_size - TRAILER.size - metadata_length
    if metadata_start >= tail_start:
        raw = tail[metadata_start - tail_start : len(tail) - TRAILER.size]
    else:
        handle.seek(metadata_start)
        raw = handle.read(metadata_length)
    metadata = json.loads(raw)
    if metadata.get("size") != metadata_start:
        return None
    return metadata


def _replace(source: Path, target: Path) -> None:
    # On Windows a file that a reader holds open cannot be replaced; readers hold it
    # only for a moment, so retry briefly. On POSIX the first attempt succeeds.
    for attempt in range(50):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if os.name == "posix" or attempt == 49:
                raise
            time.sleep(0.01)

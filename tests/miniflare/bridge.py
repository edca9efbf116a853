"""Python side of the Miniflare bridge: Miniflare's own D1 and R2, driven over HTTP.

`MiniflareBridge.start_or_skip()` starts `wrangler dev` (the version pinned in
tests/miniflare/package.json) serving the JavaScript Worker in bridge.mjs, which has a D1
binding and an R2 binding. `fresh_d1()` / `fresh_r2()` empty them and return objects with the
API the Workers Python SDK exposes for `env.DB` / `env.BUCKET` (see docs/BINDINGS.md), so the
contract suite in tests/contract/ can run the same assertions against Miniflare and against
Pixhaven's local emulation.

This is a pass-through, not an emulation: every call is made on the real Miniflare binding
and its answer is converted to Python the way the SDK converts JS values (plain objects ->
`JsDict`, `null`/`undefined` -> None, `Date` -> naive UTC `datetime`, runtime class instances
such as R2Object -> objects with attribute access, ArrayBuffer and typed arrays ->
`memoryview`, as the SDK's `python_from_rpc` makes them with Pyodide's `to_py()`). Nothing is
adjusted to look like the local bindings; where the two differ, the contract tests show it.

Python -> JS follows the SDK's `python_to_rpc` too: None is null (the bridge sends JSON null,
so Miniflare sees exactly what a Worker's binding would), a tuple or bytearray is refused
before anything is sent, an int of magnitude 2**53 - 1 or more is a BigInt (Pyodide 0.28's
rule: Number.MAX_SAFE_INTEGER itself already goes as a BigInt).

Known limits of the transport (not of Miniflare):
- `bind()` is checked in the Worker right away (one synchronous round trip), so a value JS
  rejects (D1_TYPE_ERROR) raises at bind() as on Workers; the statement itself is prepared
  again, with the same bind() calls, in the Worker call that runs it.
- An R2ObjectBody's bytes are read in the Worker right after `get()` and shipped whole; the
  Python object then serves `arrayBuffer()`/`text()`/`json()` from them, once, like a JS body.
"""

from __future__ import annotations

import atexit
import base64
import datetime
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

# Converted plain JS objects are the same dict-with-attributes type the local bindings use.
from pixhaven.local.bindings.jsvalues import JsDict

HERE = Path(__file__).resolve().parent
WRANGLER = HERE / "node_modules" / ".bin" / "wrangler"
START_TIMEOUT = 60.0
CALL_TIMEOUT = 60.0

_MAX_SAFE_INTEGER = 2**53 - 1
_EPOCH = datetime.datetime(1970, 1, 1)
# The TypeErrors workerd gives when a body is read a second time / a read body is put().
_BODY_USED = "Body has already been used. It can only be used once. Use tee() first if you need to read it twice."
_STREAM_LOCKED = "The ReadableStream has been locked to a reader."


class MiniflareError(Exception):
    """A JavaScript error thrown by Miniflare's binding; str() is the JS `message`."""

    def __init__(self, message: str, name: str = "Error", cause: Any = None):
        super().__init__(message)
        self.message = message
        self.name = name
        self.cause = cause


# ---------------------------------------------------------------------------------------
# JS values as the Workers Python SDK presents them
# ---------------------------------------------------------------------------------------


class JsObject:
    """An instance of a runtime class (R2Object, Checksums, …): its properties as attributes."""

    def __init__(self, js_class: str, fields: dict[str, Any]):
        self.js_class = js_class
        self._fields = list(fields)
        for name, value in fields.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields)
        return f"<{self.js_class} {shown}>"


class MiniflareR2Object(JsObject):
    """`R2Object` (workerd class `HeadResult`): key, version, size, etag, httpEtag, uploaded,
    httpMetadata, customMetadata, checksums, storageClass, range, ssecKeyMd5."""


class MiniflareStream:
    """`obj.body`: the object's bytes as a stream. It can be handed to `put()` (it arrives in
    the Worker as a ReadableStream of known length, like a real R2 body); reading it, or its
    owner's arrayBuffer()/text()/json(), consumes it once."""

    def __init__(self, data: bytes, owner: MiniflareR2ObjectBody):
        self._data = data
        self._owner = owner

    @property
    def locked(self) -> bool:
        return self._owner.bodyUsed

    def _take(self, message: str = _BODY_USED) -> bytes:
        if self._owner.bodyUsed:
            raise TypeError(message)
        self._owner.bodyUsed = True
        return self._data

    async def read_all(self) -> bytes:
        return self._take()


class MiniflareR2ObjectBody(MiniflareR2Object):
    """`R2ObjectBody` (workerd class `GetResult`): an R2Object plus its body."""

    def __init__(self, js_class: str, fields: dict[str, Any], body: bytes):
        fields = dict(fields)
        fields.setdefault("bodyUsed", False)
        super().__init__(js_class, fields)
        self.body = MiniflareStream(body, self)

    async def arrayBuffer(self) -> memoryview:
        return memoryview(self.body._take())

    async def bytes(self) -> memoryview:
        return memoryview(self.body._take())

    async def text(self) -> str:
        return self.body._take().decode("utf-8", errors="replace")

    async def json(self) -> Any:
        return _from_js_json(json.loads(self.body._take().decode("utf-8")))


def _from_js_json(value: Any) -> Any:
    """Result of JSON.parse as the SDK converts it (objects -> JsDict)."""
    if isinstance(value, dict):
        return JsDict({k: _from_js_json(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_from_js_json(v) for v in value]
    return value


_R2_OBJECT_CLASSES = {"HeadResult", "R2Object"}


def _decode(value: Any) -> Any:
    """Bridge JSON -> Python, following the SDK's python_from_rpc."""
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    keys = set(value)
    if keys == {"$bytes", "$type"} or keys == {"$bytes"}:
        return memoryview(base64.b64decode(value["$bytes"]))
    if keys == {"$date"}:
        return _EPOCH + datetime.timedelta(milliseconds=value["$date"])
    if keys == {"$bigint"}:
        return int(value["$bigint"])
    if keys == {"$number"}:
        return float(value["$number"])
    if keys == {"$undefined"}:
        return None
    if "$class" in value and "$fields" in value:
        fields = {k: _decode(v) for k, v in value["$fields"].items()}
        if "$body" in value:
            return MiniflareR2ObjectBody(value["$class"], fields, base64.b64decode(value["$body"]))
        if value["$class"] in _R2_OBJECT_CLASSES:
            return MiniflareR2Object(value["$class"], fields)
        return JsObject(value["$class"], fields)
    return JsDict({k: _decode(v) for k, v in value.items()})


def _encode(value: Any) -> Any:
    """Python -> bridge JSON, following the SDK's python_to_rpc / Pyodide's to_js."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if abs(value) >= _MAX_SAFE_INTEGER:  # Pyodide 0.28: a BigInt from here on
            return {"$bigint": str(value)}
        return value
    if isinstance(value, float):
        return (
            value
            if math.isfinite(value)
            else {"$number": repr(value).replace("inf", "Infinity").replace("nan", "NaN")}
        )
    if isinstance(value, (tuple, bytearray)):
        # The SDK refuses these (_raise_on_disabled_type).
        raise TypeError(f"{type(value)} cannot be sent over RPC.")
    if isinstance(value, (bytes, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, MiniflareStream):
        return {"$stream": base64.b64encode(value._take(_STREAM_LOCKED)).decode("ascii")}
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            # Workers run in UTC, so the SDK's naive datetimes are UTC there.
            value = value.replace(tzinfo=datetime.timezone.utc)
        return {"$date": value.timestamp() * 1000}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    raise TypeError(f"MiniflareBridge cannot send {type(value).__name__} to a binding")


def _call_args(args: tuple, kwargs: dict) -> list:
    """Positional arguments plus keyword arguments as one trailing options object (SDK)."""
    encoded = [_encode(a) for a in args]
    if kwargs:
        encoded.append(_encode(kwargs))
    return encoded


# ---------------------------------------------------------------------------------------
# D1 and R2 over the bridge
# ---------------------------------------------------------------------------------------


class MiniflareD1Statement:
    """`D1PreparedStatement`: prepare(sql) plus the bind() calls, replayed in the Worker."""

    def __init__(self, db: MiniflareD1, sql: Any, binds: tuple = ()):
        self._db = db
        self._sql = _encode(sql)
        self._binds = binds

    def bind(self, *values: Any) -> MiniflareD1Statement:
        stmt = MiniflareD1Statement(self._db, None, self._binds + ([_encode(v) for v in values],))
        stmt._sql = self._sql
        # JS's bind() validates its values synchronously; do the same in the Worker.
        self._db._bridge._call_sync({"target": "d1", "op": "bind", "statement": stmt._spec()})
        return stmt

    def _spec(self) -> dict:
        return {"sql": self._sql, "binds": list(self._binds)}

    async def _run(self, op: str, args: tuple, kwargs: dict) -> Any:
        return await self._db._bridge._call(
            {"target": "d1", "op": op, "statement": self._spec(), "args": _call_args(args, kwargs)}
        )

    async def all(self, *args, **kwargs):
        return await self._run("all", args, kwargs)

    async def run(self, *args, **kwargs):
        return await self._run("run", args, kwargs)

    async def first(self, *args, **kwargs):
        return await self._run("first", args, kwargs)

    async def raw(self, *args, **kwargs):
        return await self._run("raw", args, kwargs)


class MiniflareD1:
    """`env.DB` backed by Miniflare's D1."""

    def __init__(self, bridge: MiniflareBridge):
        self._bridge = bridge

    def prepare(self, sql: Any) -> MiniflareD1Statement:
        return MiniflareD1Statement(self, sql)

    async def batch(self, statements: list) -> Any:
        if isinstance(statements, tuple):
            raise TypeError(f"{type(statements)} cannot be sent over RPC.")
        specs = []
        for stmt in statements:
            if not isinstance(stmt, MiniflareD1Statement):
                raise TypeError(
                    f"batch() takes statements from prepare(), got {type(stmt).__name__}"
                )
            specs.append(stmt._spec())
        return await self._bridge._call({"target": "d1", "op": "batch", "statements": specs})

    async def exec(self, *args, **kwargs) -> Any:
        return await self._bridge._call(
            {"target": "d1", "op": "exec", "args": _call_args(args, kwargs)}
        )


class MiniflareR2:
    """`env.BUCKET` backed by Miniflare's R2."""

    def __init__(self, bridge: MiniflareBridge):
        self._bridge = bridge

    async def _op(self, op: str, args: tuple, kwargs: dict) -> Any:
        return await self._bridge._call(
            {"target": "r2", "op": op, "args": _call_args(args, kwargs)}
        )

    async def put(self, *args, **kwargs):
        return await self._op("put", args, kwargs)

    async def get(self, *args, **kwargs):
        return await self._op("get", args, kwargs)

    async def head(self, *args, **kwargs):
        return await self._op("head", args, kwargs)

    async def delete(self, *args, **kwargs):
        return await self._op("delete", args, kwargs)

    async def list(self, *args, **kwargs):
        return await self._op("list", args, kwargs)


# ---------------------------------------------------------------------------------------
# wrangler dev
# ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MiniflareBridge:
    """One `wrangler dev` process serving bridge.mjs, shared by everything in the process:
    start_or_skip() hands out the running bridge (starting it the first time) and stop()
    ends it when its last user stops it."""

    _shared: MiniflareBridge | None = None
    _lock = threading.Lock()

    def __init__(self, wrangler: Path = WRANGLER):
        self.wrangler = Path(wrangler)
        self.port = 0
        self.base_url = ""
        self.process: subprocess.Popen | None = None
        self._users = 0
        self._tmp: str | None = None
        self._log_path: Path | None = None
        self._sync_client: httpx.Client | None = None

    # -- lifecycle --------------------------------------------------------------------

    @classmethod
    def start_or_skip(cls) -> MiniflareBridge:
        """The running bridge; skips the test (fails it when PIXHAVEN_REQUIRE_MINIFLARE=1) if
        node or the installed wrangler are missing."""
        required = os.environ.get("PIXHAVEN_REQUIRE_MINIFLARE") == "1"

        def unavailable(reason: str):
            if required:
                pytest.fail(f"PIXHAVEN_REQUIRE_MINIFLARE=1 but {reason}", pytrace=False)
            pytest.skip(reason)

        with cls._lock:
            if cls._shared is not None and cls._shared.running:
                cls._shared._users += 1
                return cls._shared
            if shutil.which("node") is None:
                unavailable("Miniflare contract tests need Node.js (node not found on PATH)")
            if shutil.which("npm") is None and not WRANGLER.exists():
                unavailable("Miniflare contract tests need npm to install wrangler (npm not found)")
            if not WRANGLER.exists():
                unavailable(
                    "wrangler is not installed for the Miniflare contract tests: "
                    "run `npm ci --prefix tests/miniflare`"
                )
            bridge = cls(WRANGLER)
            bridge.start()
            bridge._users = 1
            cls._shared = bridge
            return bridge

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        self._tmp = tempfile.mkdtemp(prefix="pixhaven-miniflare-")
        tmp = Path(self._tmp)
        # The Worker is run from a copy so wrangler's .wrangler/ scratch files and the
        # persisted D1/R2 data stay out of the repository and apart from other runs.
        for name in ("wrangler.toml", "bridge.mjs"):
            shutil.copy(HERE / name, tmp / name)
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log_path = tmp / "wrangler.log"
        env = dict(os.environ)
        env.update(
            WRANGLER_SEND_METRICS="false",
            WRANGLER_SEND_ERROR_REPORTS="false",
            WRANGLER_HIDE_BANNER="true",  # also skips the registry update check
            CLOUDFLARE_CF_FETCH_ENABLED="false",  # no download of the Request.cf object
            WRANGLER_LOG_PATH=str(tmp / "logs"),
            WRANGLER_REGISTRY_PATH=str(tmp / "registry"),
            NO_COLOR="1",
            FORCE_COLOR="0",
            CI="1",
        )
        command = [
            str(self.wrangler),
            "dev",
            "--config",
            str(tmp / "wrangler.toml"),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--inspector-port",
            str(_free_port()),
            "--persist-to",
            str(tmp / "state"),
            "--show-interactive-dev-session=false",
            "--log-level",
            "warn",
        ]
        with open(self._log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=tmp,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self._kill)
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(trust_env=False, verify=False, timeout=2.0) as client:
            while True:
                if self.process.poll() is not None:
                    output = self.output()
                    self._kill()
                    pytest.fail(
                        f"wrangler dev exited with code {self.process.returncode} before the "
                        f"Miniflare bridge answered.\n--- wrangler output ---\n{output}",
                        pytrace=False,
                    )
                try:
                    response = client.get(self.base_url + "/health")
                    if response.status_code == 200 and response.json().get("ok"):
                        return
                except (httpx.HTTPError, ValueError):
                    pass
                if time.monotonic() > deadline:
                    output = self.output()
                    self._kill()
                    pytest.fail(
                        f"the Miniflare bridge (wrangler dev on {self.base_url}) did not answer "
                        f"within {START_TIMEOUT:.0f}s.\n--- wrangler output ---\n{output}",
                        pytrace=False,
                    )
                time.sleep(0.2)

    def output(self) -> str:
        """What wrangler printed so far."""
        if self._log_path is None or not self._log_path.exists():
            return ""
        return self._log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Releases this user's hold; the last one ends wrangler (its whole process group)."""
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users > 0:
                return
            self._kill()
            if MiniflareBridge._shared is self:
                MiniflareBridge._shared = None

    def _kill(self) -> None:
        if self._sync_client is not None:
            self._sync_client.close()
            self._sync_client = None
        process = self.process
        if process is not None and process.poll() is None:
            # wrangler forwards SIGTERM to its CLI process, which shuts workerd down and reaps
            # it; whatever is left of the process group after that is killed.
            pgid = process.pid  # start_new_session: the leader's pid is the group id
            try:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                try:
                    os.killpg(pgid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if process.poll() is None:
                process.wait(timeout=5)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
            self._log_path = None

    # -- calls ------------------------------------------------------------------------

    @staticmethod
    def _answer(response: httpx.Response) -> Any:
        if response.status_code != 200:
            raise RuntimeError(
                f"the Miniflare bridge answered HTTP {response.status_code}: {response.text[:2000]}"
            )
        answer = response.json()
        if answer.get("ok"):
            return _decode(answer.get("value"))
        error = answer.get("error") or {}
        raise MiniflareError(
            error.get("message", "unknown error"), error.get("name", "Error"), error.get("cause")
        )

    def _call_sync(self, payload: dict) -> Any:
        """For the few calls that are synchronous in JS (D1 bind())."""
        if self._sync_client is None:
            self._sync_client = httpx.Client(trust_env=False, verify=False, timeout=CALL_TIMEOUT)
        try:
            response = self._sync_client.post(self.base_url + "/rpc", json=payload)
        except httpx.HTTPError as e:
            raise RuntimeError(
                f"the Miniflare bridge at {self.base_url} did not answer ({e!r}).\n"
                f"--- wrangler output ---\n{self.output()[-4000:]}"
            ) from e
        return self._answer(response)

    async def _call(self, payload: dict) -> Any:
        # A client per call: tests each run on their own event loop, and a client (with
        # its connection pool) must not outlive the loop it was used on.
        try:
            async with httpx.AsyncClient(
                trust_env=False, verify=False, timeout=CALL_TIMEOUT
            ) as client:
                response = await client.post(self.base_url + "/rpc", json=payload)
        except httpx.HTTPError as e:
            raise RuntimeError(
                f"the Miniflare bridge at {self.base_url} did not answer ({e!r}).\n"
                f"--- wrangler output ---\n{self.output()[-4000:]}"
            ) from e
        return self._answer(response)

    async def fresh_d1(self) -> MiniflareD1:
        """Miniflare's D1 with every user table and view dropped."""
        await self._call({"target": "d1", "op": "reset"})
        return MiniflareD1(self)

    async def fresh_r2(self) -> MiniflareR2:
        """Miniflare's R2 bucket with every object deleted."""
        await self._call({"target": "r2", "op": "reset"})
        return MiniflareR2(self)

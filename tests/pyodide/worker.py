"""Starts the Pyodide harness (harness.mjs) and talks to it from pytest.

`PyodideWorker.start_or_skip()` makes sure the pieces are there (Node, the npm packages of
tests/pyodide and tests/miniflare, the wheels), starts `node harness.mjs` and waits for its
"ready" line; `call(op, **fields)` sends one JSON line and reads the answer;
`WorkerTransport` lets an `httpx.AsyncClient` send its requests through `entry.Default.fetch`.

env.IMAGES is Pixhaven's own emulation of Cloudflare Images (`LocalImages`, the one the
contract suite tests/contract/test_images.py holds to Cloudflare's documented behaviour),
not Miniflare's: Miniflare's ignores `fit` and ran out of memory scaling a 12000×12000 image
down. `ImagesServer` runs it here, in a thread of the test process, behind a small HTTP
server on 127.0.0.1; harness.mjs hands the Worker an `ImagesBindingImpl` (images.mjs) that
forwards each call to it. What the binding was given travels with the call (`x-source`):
a `ReadableStream` is read and sent as a stream, anything else is handed to LocalImages as
the Python value it stands for (bytes for a Uint8Array), so LocalImages refuses it with
its own `IMAGES_..._ERROR 9412`, as workerd refuses a source that is not a stream.

Wheels are downloaded at test time, never committed: `pip download` for Pyodide's platform
(`pyemscripten_2026_0_wasm32`, Python 3.14, the ABI of npm pyodide 314.0.7) into
`$PIXHAVEN_PYODIDE_CACHE` (default `~/.cache/pixhaven-pyodide`), one folder per content of
requirements.txt. Compiled packages (pydantic-core) come as pyemscripten wheels, the rest as
pure wheels. Pillow has no such wheel on PyPI, so nothing that decodes pixels runs here.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PLATFORM = "pyemscripten_2026_0_wasm32"
PYTHON_VERSION = "3.14"
ADMIN_TOKEN = "test-admin-token"


class HarnessError(RuntimeError):
    pass


def unavailable(reason: str) -> NoReturn:
    """Skips the Pyodide tests on a machine without their pieces; with
    PIXHAVEN_REQUIRE_PYODIDE=1 (CI sets it) a missing piece is a failure."""
    if os.environ.get("PIXHAVEN_REQUIRE_PYODIDE") == "1":
        pytest.fail(f"PIXHAVEN_REQUIRE_PYODIDE=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def cache_dir() -> Path:
    configured = os.environ.get("PIXHAVEN_PYODIDE_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "pixhaven-pyodide"


def wheels() -> Path:
    """The wheel folder for the current requirements.txt, downloaded on first use."""
    requirements = HERE / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    folder = cache_dir() / f"wheels-{digest}"
    if (folder / ".complete").exists():
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--only-binary=:all:", "--platform", PLATFORM, "--platform", "any",
        "--python-version", PYTHON_VERSION, "--implementation", "cp",
        "--abi", "cp314", "--abi", "abi3", "--abi", "none",
        "--dest", str(partial), "--requirement", str(requirements),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise HarnessError(f"pip download failed: {done.stderr[-2000:]}")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    (folder / ".complete").write_text("")
    return folder


def worker_vars(**overrides: str) -> dict[str, str]:
    """The Worker's [vars] from wrangler.toml, plus the admin token a secret would give."""
    config = tomllib.loads((ROOT / "wrangler.toml").read_text(encoding="utf-8"))
    values = {name: str(value) for name, value in config.get("vars", {}).items()}
    return {**values, "ADMIN_TOKEN": ADMIN_TOKEN, **overrides}


def migrations() -> list[list]:
    """Every D1 migration as [name, [statement, ...]], split as `pixhaven dev` splits them."""
    from pixhaven.local.runtime.migrations import split_statements

    return [
        [path.name, split_statements(path.read_text(encoding="utf-8"))]
        for path in sorted((ROOT / "migrations").glob("*.sql"))
    ]


# What images.mjs says the Worker handed env.IMAGES, as the Python value LocalImages is given.
SOURCE_KINDS = {
    "bytes": lambda body: body,  # a Uint8Array or ArrayBuffer: what Python bytes become
    "string": lambda body: body.decode("utf-8"),
}


class _ImagesRequest(BaseHTTPRequestHandler):
    """POST /info or /transform: the image in the body, `x-source` what the binding was
    given, `x-steps` (JSON list of transform options) and `x-output` (JSON output options)
    for /transform. 200 with the answer, or 422 {"code", "message"} with LocalImages' error
    (500 {"message"} for anything that is not an ImagesError)."""

    def do_POST(self) -> None:
        from pixhaven.interop import ByteStream
        from pixhaven.local.bindings.images import ImagesError, LocalImages

        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        kind = self.headers.get("x-source", "stream")
        if kind == "stream":
            source = ByteStream(body)
        elif kind in SOURCE_KINDS:
            source = SOURCE_KINDS[kind](body)
        else:  # another JS object: a stand-in of that name, which is not a stream either
            source = type(kind, (), {})()
        # One LocalImages per call: its shared decodes belong to one event loop.
        images = LocalImages()
        try:
            if self.path == "/info":
                info = asyncio.run(images.info(source))
                self._answer(200, json.dumps(dict(info)).encode(), "application/json")
                return
            steps = json.loads(self.headers.get("x-steps") or "[]")
            output = json.loads(self.headers.get("x-output") or "{}")
            result = asyncio.run(self._transform(images, source, steps, output))
            self._answer(200, *result)
        except ImagesError as error:
            answer = {"code": error.code, "message": str(error)}
            self._answer(422, json.dumps(answer).encode(), "application/json")
        except Exception as error:  # a bug of the harness or the emulation: say which
            message = f"{type(error).__name__}: {error}"
            self._answer(500, json.dumps({"message": message}).encode(), "application/json")

    @staticmethod
    async def _transform(images, source, steps: list, output: dict) -> tuple[bytes, str]:
        builder = images.input(source)
        for step in steps:
            builder = builder.transform(step)
        result = await builder.output(output)
        return await result.response().bytes(), result.contentType()

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        pass  # one line per call would drown the Worker's own logs


class ImagesServer:
    """LocalImages over HTTP on 127.0.0.1, one call at a time, in a thread of this process."""

    def __init__(self) -> None:
        self.server = HTTPServer(("127.0.0.1", 0), _ImagesRequest)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class PyodideWorker:
    def __init__(self, process: subprocess.Popen, ready: dict, images: ImagesServer):
        self.process = process
        self.ready = ready
        self.images = images
        self.answers: list[dict] = []  # every answer, for timings and memory
        self._next_id = 0

    @classmethod
    def start_or_skip(cls, **var_overrides: str) -> PyodideWorker:
        if shutil.which("node") is None:
            unavailable("Node.js is not installed")
        for folder in ("tests/pyodide", "tests/miniflare"):
            if not (ROOT / folder / "node_modules").is_dir():
                unavailable(f"run `npm ci --prefix {folder}` first")
        try:
            wheel_folder = wheels()
        except (HarnessError, subprocess.TimeoutExpired) as error:
            unavailable(f"the Worker's wheels could not be downloaded: {error}")
        images = ImagesServer()
        env = {
            **os.environ,
            "PIXHAVEN_PYODIDE_WHEELS": str(wheel_folder),
            "PIXHAVEN_PYODIDE_VARS": json.dumps(worker_vars(**var_overrides)),
            "PIXHAVEN_PYODIDE_IMAGES": images.url,
        }
        process = subprocess.Popen(
            ["node", str(HERE / "harness.mjs")],
            cwd=HERE,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the Worker's logs go to pytest's captured stderr
            text=True,
        )
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            process.wait(timeout=30)
            images.stop()
            raise HarnessError(f"the harness exited before it was ready ({process.returncode})")
        worker = cls(process, json.loads(line), images)
        worker.call("migrate", migrations=migrations())
        return worker

    def call(self, op: str, **fields) -> dict:
        assert self.process.stdin and self.process.stdout
        self._next_id += 1
        self.process.stdin.write(json.dumps({"id": self._next_id, "op": op, **fields}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise HarnessError("the harness exited")
        answer = json.loads(line)
        assert answer["id"] == self._next_id
        if not answer["ok"]:
            raise HarnessError(answer["error"])
        self.answers.append({"op": op, **{k: v for k, v in answer.items() if k != "body"}})
        return answer

    # -- conveniences --------------------------------------------------------------------------

    def deliver_queue(self) -> dict:
        """Hand every queued message to `Default.queue`, as workerd's consumer would, until
        the queue is empty (a job may queue the next one)."""
        total = {"delivered": 0, "acked": 0, "retried": 0}
        for _ in range(20):
            outcome = self.call("queue")
            if outcome.get("error"):
                raise HarnessError(outcome["error"])
            if not outcome["delivered"]:
                return total
            for name in total:
                total[name] += outcome[name]
        raise HarnessError("the queue did not drain in 20 deliveries")

    def scheduled(self, cron: str = "0 * * * *") -> None:
        self.call("scheduled", cron=cron)

    def d1(self, sql: str, *params) -> list[dict]:
        return self.call("d1", sql=sql, params=list(params))["results"]

    def r2_put(self, key: str, data: bytes, content_type: str = "") -> None:
        self.call("r2put", key=key, body=base64.b64encode(data).decode(), contentType=content_type)

    def r2_keys(self, prefix: str = "") -> list[str]:
        return self.call("r2keys", prefix=prefix)["keys"]

    def memory(self) -> int:
        return self.call("memory")["memory"]

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.images.stop()


class WorkerTransport(httpx.AsyncBaseTransport):
    """httpx requests through `entry.Default.fetch` on Pyodide."""

    def __init__(self, worker: PyodideWorker):
        self.worker = worker

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        # Host included: workerd's Request carries it, and Starlette builds URLs from it.
        headers = request.headers.multi_items()
        answer = self.worker.call(
            "fetch",
            method=request.method,
            url=str(request.url),
            headers=headers,
            body=base64.b64encode(body).decode(),
        )
        return httpx.Response(
            answer["status"],
            headers=answer["headers"],
            content=base64.b64decode(answer["body"]),
            request=request,
        )

"""Benchmark: peak memory of `pixhaven dev` for the images of the bounded-memory issue.

Each case runs against its own `pixhaven dev` (a subprocess with a throwaway state folder
and the checkout's wrangler.toml, so the default MAX_DECODED_PIXELS, with MAX_UPLOAD_BYTES
raised to 70 MB as a local server's `.dev.vars` would): the server is warmed
up with one small upload and one small render, its VmRSS read from /proc as "idle" and its
peak (VmHWM) reset (`/proc/PID/clear_refs` 5); then the case is sent once, and in a fresh
server four times at once (different bytes each, as four clients would send). The figure is
VmHWM minus idle. Targets: 600 MB above idle for one request, 1.2 GB for four.

Cases (generated here): an AVIF whose `ispe` claims 9000x9000 over 8x8 of AV1 data, a JPEG
whose SOF claims 9000x9000 over 120x80 pixels of data, a legal all-zero 10000x10000 PNG
(292 KB), an 8000x8000 progressive JPEG, a render whose `data:` image is that PNG (one
component, and four), and a 12 MP photo-like JPEG.

    .venv/bin/python bench/memory.py [part of a case name]    (bench/run.py runs them all)

A server passing 4 GB is killed (and the case reported over target) so the benchmark never
pushes the machine into swap.
"""

import asyncio
import base64
import io
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PIXHAVEN = Path(sys.executable).with_name("pixhaven")
TARGET_ONE_MB = 600
TARGET_FOUR_MB = 1200
KILL_ABOVE_MB = 4096


# -- the cases -------------------------------------------------------------------------------


def _encode(image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def lying_avif() -> bytes:
    from PIL import Image

    data = _encode(Image.new("RGB", (8, 8), (200, 40, 40)), "AVIF", quality=50)
    at = data.index(b"ispe") + 8
    return data[:at] + struct.pack(">II", 9000, 9000) + data[at + 8 :]


def lying_jpeg() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (120, 80), (200, 40, 40))
    ImageDraw.Draw(image).ellipse((20, 10, 100, 70), fill=(30, 60, 220))
    data = _encode(image, "JPEG", quality=90)
    at = data.index(b"\xff\xc0")
    return data[: at + 5] + struct.pack(">HH", 9000, 9000) + data[at + 9 :]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def zero_png(width: int = 10000, height: int = 10000) -> bytes:
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + 3 * width)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def photo_like(width: int, height: int, **options) -> bytes:
    """Gradients with fine noise, like a photo (flat colour would flatter the encoders)."""
    from PIL import Image

    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 24)
    red = Image.blend(gradient, noise, 0.3)
    green = Image.blend(gradient.rotate(90), noise, 0.3)
    blue = Image.radial_gradient("L").resize((width, height))
    return _encode(Image.merge("RGB", (red, green, blue)), "JPEG", quality=90, **options)


def variant(data: bytes, n: int) -> bytes:
    """The same image with different bytes (a comment / text chunk / free box), so four
    uploads are four images, not one deduplicated."""
    if n == 0:
        return data
    if data[:2] == b"\xff\xd8":
        text = b"copy %d" % n
        return data[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + data[2:]
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return data[:33] + _png_chunk(b"tEXt", b"Comment\0copy %d" % n) + data[33:]
    return data + struct.pack(">I", 12) + b"free" + struct.pack(">I", n)  # ISO-BMFF (AVIF)


def render_document(png: bytes, components: int) -> dict:
    src = "data:image/png;base64," + base64.b64encode(png).decode()
    return {
        "width": 400,
        "height": 400,
        "components": [{"type": "image", "src": src, "width": 100, "height": 100, "x": 0, "y": 0}]
        * components,
    }


@dataclass
class Case:
    name: str
    kind: str  # "upload" | "render"
    payloads: list  # four: bytes to upload, or documents to render


def cases() -> list[Case]:
    zeros = zero_png()
    return [
        Case("AVIF, ispe claims 9000x9000 (8x8 of data)", "upload", _four(lying_avif())),
        Case("JPEG, SOF claims 9000x9000 (120x80 of data)", "upload", _four(lying_jpeg())),
        Case("PNG 10000x10000 all zero (292 KB, legal)", "upload", _four(zeros)),
        Case(
            "JPEG 8000x8000 progressive",
            "upload",
            _four(photo_like(8000, 8000, progressive=True)),
        ),
        Case("render, data: image = that PNG", "render", [render_document(zeros, 1)] * 4),
        Case("render, four components of it", "render", [render_document(zeros, 4)] * 4),
        Case("JPEG 12 MP photo (4000x3000)", "upload", _four(photo_like(4000, 3000))),
    ]


def _four(data: bytes) -> list[bytes]:
    return [variant(data, n) for n in range(4)]


# -- one server per run ----------------------------------------------------------------------


def _status(pid: int) -> dict[str, int]:
    values = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) // 1024  # kB → MB
    return values


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Run:
    statuses: list[int] = field(default_factory=list)
    peak_mb: int = 0
    seconds: float = 0.0
    killed: bool = False


# The local server's upload limit for these cases, as `.dev.vars` would raise it: the
# checkout's MAX_UPLOAD_BYTES (15 MB) is what a Worker isolate processes, and the 16 MB
# progressive JPEG here is about the decode budget, not about the size limit.
LOCAL_UPLOAD_LIMIT = 70 * 1024 * 1024


def local_config(state: Path) -> Path:
    """The checkout's wrangler.toml and a .dev.vars raising MAX_UPLOAD_BYTES, in `state`."""
    text = (ROOT / "wrangler.toml").read_text(encoding="utf-8")
    text = text.replace(
        'migrations_dir = "migrations"', f'migrations_dir = "{ROOT / "migrations"}"'
    )
    (state / "wrangler.toml").write_text(text, encoding="utf-8")
    (state / ".dev.vars").write_text(f"MAX_UPLOAD_BYTES={LOCAL_UPLOAD_LIMIT}\n", encoding="utf-8")
    return state / "wrangler.toml"


class Server:
    def __init__(self, state: Path):
        self.port = _free_port()
        config = local_config(state)
        self.process = subprocess.Popen(
            [
                str(PIXHAVEN),
                "--state-dir",
                str(state),
                "--config",
                str(config),
                "dev",
                "--port",
                str(self.port),
            ],  # fmt: skip
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = state
        self.killed = False

    async def ready(self, client) -> str:
        for _ in range(600):
            if self.process.poll() is not None:
                raise RuntimeError("pixhaven dev exited during startup")
            try:
                if (await client.get(f"{self.url}/health")).status_code < 500:
                    return (self.state / "admin_token").read_text().strip()
            except Exception:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError("pixhaven dev did not start")

    def watch(self, stop: threading.Event) -> None:
        """The safety valve: kill the server before it takes the machine's memory."""
        while not stop.wait(0.05):
            try:
                if _status(self.process.pid)["VmRSS"] > KILL_ABOVE_MB:
                    self.killed = True
                    os.killpg(self.process.pid, signal.SIGKILL)
                    return
            except (OSError, KeyError):
                return

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def _send(client, url: str, token: str, case: Case, payload) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    try:
        if case.kind == "upload":
            files = {"image": ("case.bin", payload, "application/octet-stream")}
            response = await client.post(f"{url}/api/upload/single", headers=headers, files=files)
        else:
            headers["Accept"] = "image/png"
            response = await client.post(f"{url}/api/v1/image", headers=headers, json=payload)
        return response.status_code
    except Exception:
        return 0  # the server died (killed by the safety valve)


async def _run(case: Case, count: int) -> Run:
    import httpx
    from PIL import Image

    run = Run()
    with tempfile.TemporaryDirectory() as state:
        server = Server(Path(state))
        stop = threading.Event()
        try:
            async with httpx.AsyncClient(timeout=600) as client:
                token = await server.ready(client)
                warm = Case("warm-up", "upload", [_encode(Image.new("RGB", (64, 48)), "JPEG")])
                await _send(client, server.url, token, warm, warm.payloads[0])
                small = _encode(Image.new("RGB", (64, 48)), "PNG")
                await _send(
                    client, server.url, token, Case("", "render", []), render_document(small, 1)
                )
                idle = _status(server.process.pid)["VmRSS"]
                Path(f"/proc/{server.process.pid}/clear_refs").write_text("5")
                watcher = threading.Thread(target=server.watch, args=(stop,), daemon=True)
                watcher.start()
                started = time.perf_counter()
                run.statuses = list(
                    await asyncio.gather(
                        *(
                            _send(client, server.url, token, case, payload)
                            for payload in case.payloads[:count]
                        )
                    )
                )
                run.seconds = time.perf_counter() - started
                stop.set()
                watcher.join()
                if server.killed:
                    run.killed, run.peak_mb = True, KILL_ABOVE_MB
                else:
                    run.peak_mb = _status(server.process.pid)["VmHWM"] - idle
        finally:
            stop.set()
            server.stop()
    return run


def bench_memory(only: str = "") -> list[dict]:
    """One row per case and concurrency: name, requests, answers, peak, target. `only`: the
    cases whose name contains it."""
    if not PIXHAVEN.exists():
        raise RuntimeError(f"{PIXHAVEN} not found: run ./scripts/test.sh once to install")
    print(HEADER, flush=True)
    rows = []
    for case in cases():
        if only.lower() not in case.name.lower():
            continue
        for count, target in ((1, TARGET_ONE_MB), (4, TARGET_FOUR_MB)):
            run = asyncio.run(_run(case, count))
            rows.append(
                {
                    "name": case.name,
                    "requests": count,
                    "answers": " ".join(str(s) for s in sorted(run.statuses)),
                    "peak_mb": run.peak_mb,
                    "killed": run.killed,
                    "seconds": run.seconds,
                    "target_mb": target,
                }
            )
            print_row(rows[-1], flush=True)
    return rows


HEADER = (
    f"{'case':<46} {'at once':>7}  {'answers':<16} {'peak above idle':>15}  "
    f"{'target':>8}  {'time':>6}  ok"
)


def print_row(row: dict, flush: bool = False) -> None:
    peak = f"> {row['peak_mb']} MB (killed)" if row["killed"] else f"{row['peak_mb']} MB"
    verdict = "ok" if row["peak_mb"] <= row["target_mb"] and not row["killed"] else "OVER"
    print(
        f"{row['name']:<46} {row['requests']:>7}  {row['answers']:<16} {peak:>15}  "
        f"{row['target_mb']:>5} MB  {row['seconds']:>5.1f}s  {verdict}",
        flush=flush,
    )


def over_target(rows: list[dict]) -> bool:
    return any(row["killed"] or row["peak_mb"] > row["target_mb"] for row in rows)


def main() -> int:
    rows = bench_memory(" ".join(sys.argv[1:]))
    return 1 if over_target(rows) else 0


if __name__ == "__main__":
    sys.exit(main())

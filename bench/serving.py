"""Serving a stored photo over HTTP: `GET /r2/<210 KB JPEG>` from `pixhaven dev` (one and two
workers) against `python -m http.server` on the same file, and nginx with X-Accel-Redirect in
front of Pixhaven against nginx alone serving the file. Beside it, the same nginx in front of
a do-nothing app (bench/accel_floor.py) that repeats Pixhaven's answer without checking
anything: the floor of any Python app behind X-Accel-Redirect on this machine, so the table
shows how much of the gap to nginx alone is the proxy hop and how much is Pixhaven's check.
The same two nginx set-ups then serve a large photo (a few MB), where the check Pixhaven runs
per request weighs little against sending the bytes: what X-Accel-Redirect is for (no figure
there has a target).

Access logs: `python -m http.server` writes a line per request and so does `pixhaven dev`
(its JSON request log, LOG_LEVEL=info); nginx runs with `access_log off`, and so Pixhaven
behind it runs at LOG_LEVEL=warning.

Every figure is wrk's request rate (`wrk -t2 -c32`, SECONDS per run) against a fresh server
process; the servers take turns within each round, ROUNDS rounds, and the best rate of each
is kept (the machine is shared: the best run is the least disturbed one). Needs `wrk`, and
`nginx` for the figures behind it (skipped without it). Run: `python bench/serving.py`.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
from figures import Figure, print_table
from local_env import ADMIN_TOKEN, ROOT

# README's nginx block, read as tests/test_behind_nginx.py reads it.
sys.path.insert(0, str(ROOT))
from tests.readme_snippets import readme_nginx_site

ROUNDS = 2
SECONDS = 5
NAME = "GET /r2/<210 KB JPEG>"
# The large photo: 12 MP, about 4 MB (JPEG quality 95; below MAX_UPLOAD_BYTES).
LARGE_SIZE = (4000, 3000)
LARGE_BYTES = 4_000_000
Server = Callable[[], AbstractContextManager[str]]  # a fresh server; yields the file's URL


def photo_jpeg(target: int = 210_000, size: tuple[int, int] = (1600, 1067)) -> bytes:
    """A photo-like JPEG (gradients and grain) of `size` and about `target` bytes."""
    from PIL import Image, ImageFilter

    grain = Image.effect_noise(size, 48).filter(ImageFilter.GaussianBlur(1.2))
    red = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (red, grain, red.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    best = b""
    for quality in range(30, 96, 5):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        if abs(out.tell() - target) < abs(len(best) - target):
            best = out.getvalue()
    return best


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=5, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no answer from {url}")
        time.sleep(0.05)


@contextmanager
def running(command: list[str], url: str, folder: Path, env: dict | None = None):
    """A server process until the block ends; waits until `url` answers 200."""
    log = folder / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=folder, stdout=output, stderr=subprocess.STDOUT, env=env
        )
    try:
        wait_for(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def dev_config(folder: Path, variables: dict[str, str]) -> Path:
    """The repository's wrangler.toml, usable from `folder`, with `variables` in .dev.vars."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "wrangler.toml").read_text()
    text = text.replace(
        'migrations_dir = "migrations"', f'migrations_dir = "{ROOT / "migrations"}"'
    )
    text = text.replace('directory = "./console"', f'directory = "{ROOT / "console"}"')
    (folder / "wrangler.toml").write_text(text)
    (folder / ".dev.vars").write_text("".join(f'{k}="{v}"\n' for k, v in variables.items()))
    return folder / "wrangler.toml"


def pixhaven(
    state: Path, folder: Path, path: str, workers: int = 1, python: str = sys.executable, **dev_vars
) -> Server:
    """`pixhaven dev` on the shared state folder, with `dev_vars` in its .dev.vars."""
    config = dev_config(folder, {"ADMIN_TOKEN": ADMIN_TOKEN, **dev_vars})

    @contextmanager
    def server():
        port = free_port()
        command = [python, "-m", "pixhaven.local.runtime.cli", "--state-dir", str(state)]
        command += ["--config", str(config), "dev", "--port", str(port)]
        command += ["--workers", str(workers)] if workers > 1 else []
        with running(command, f"http://127.0.0.1:{port}/health", folder):
            yield f"http://127.0.0.1:{port}{path}"

    return server


def http_server(www: Path) -> Server:
    @contextmanager
    def server():
        port = free_port()
        command = [sys.executable, "-m", "http.server", str(port)]
        command += ["--bind", "127.0.0.1", "--directory", str(www)]
        with running(command, f"http://127.0.0.1:{port}/photo.jpg", www.parent):
            yield f"http://127.0.0.1:{port}/photo.jpg"

    return server


def nginx(
    folder: Path,
    www: Path,
    upstream: Server | None,
    path: str,
    bucket: Path,
    file: str = "photo.jpg",
) -> Server:
    """nginx alone serving `file` of `www`, or in front of `upstream` with README's nginx
    block."""
    executable = shutil.which("nginx") or "/usr/sbin/nginx"

    @contextmanager
    def server():
        port = free_port()
        with upstream() if upstream else _nothing() as upstream_url:
            origin = upstream_url.split(path)[0] if upstream_url else ""
            folder.mkdir(parents=True, exist_ok=True)
            user = "user root;" if os.geteuid() == 0 else ""
            static = f"server {{ listen 127.0.0.1:{port}; location / {{ root {www}; }} }}"
            address = origin.removeprefix("http://")
            site = readme_nginx_site(address, bucket, port) if upstream else static
            config = folder / "nginx.conf"
            config.write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{site}
}}
""")
            url = f"http://127.0.0.1:{port}{path if upstream else '/' + file}"
            command = [executable, "-p", str(folder), "-c", str(config), "-e", "stderr"]
            with running(command, url, folder):
                yield url

    return server


def accel_floor(folder: Path, path: str, answer_headers: list[tuple[str, str]]) -> Server:
    """bench/accel_floor.py under uvicorn, answering with `answer_headers` (Pixhaven's own
    X-Accel-Redirect answer's, but the Date and Server uvicorn adds itself)."""
    own = [(n, v) for n, v in answer_headers if n.lower() not in ("date", "server")]

    @contextmanager
    def server():
        port = free_port()
        env = {**os.environ, "FLOOR_HEADERS": json.dumps(own)}
        command = [sys.executable, "-m", "uvicorn", "accel_floor:app", "--port", str(port)]
        command += ["--loop", "uvloop", "--http", "httptools", "--lifespan", "off"]
        command += ["--log-level", "warning", "--no-access-log", "--no-proxy-headers"]
        command += ["--app-dir", str(Path(__file__).parent)]
        folder.mkdir(parents=True, exist_ok=True)
        with running(command, f"http://127.0.0.1:{port}{path}", folder, env=env) as url:
            yield url

    return server


@contextmanager
def _nothing():
    yield ""


def wrk_rate(url: str, seconds: int = SECONDS) -> float:
    """Requests per second over `seconds`; every answer must be a 200."""
    httpx.get(url, trust_env=False)  # warm: first-request work is not what is measured
    output = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", url], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors for {url}:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def best_rates(servers: dict[str, Server], rounds: int = ROUNDS) -> dict[str, float]:
    """Each server's best wrk rate over `rounds`, the servers taking turns in each round."""
    best = dict.fromkeys(servers, 0.0)
    for _ in range(rounds):
        for name, server in servers.items():
            with server() as url:
                best[name] = max(best[name], wrk_rate(url))
    return best


def publish(state: Path, folder: Path, data: bytes) -> str:
    """Upload `data` through a fresh `pixhaven dev`; returns the original's /r2/ path."""
    with pixhaven(state, folder, "/health")() as url:
        answer = httpx.post(
            url.replace("/health", "/api/upload/single"),
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            files={"image": ("photo.jpg", data, "application/octet-stream")},
            timeout=60,
            trust_env=False,
        )
        answer.raise_for_status()
        return "/r2/" + answer.json()["result"]["urls"]["original"].split("/r2/", 1)[1]


def bench_serving() -> list[Figure]:
    if shutil.which("wrk") is None:
        raise RuntimeError("bench/serving.py needs wrk (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        state, www = base / "state", base / "www"
        path = publish(state, base / "upload", photo_jpeg())
        large_path = publish(state, base / "upload", photo_jpeg(LARGE_BYTES, LARGE_SIZE))
        www.mkdir()
        with pixhaven(state, base / "read", path)() as url:
            stored = httpx.get(url, trust_env=False).content
            large = httpx.get(url.replace(path, large_path), trust_env=False).content
        (www / "photo.jpg").write_bytes(stored)  # the same bytes for every server
        (www / "large.jpg").write_bytes(large)
        size = f"{len(stored) / 1000:.0f} KB"
        large_size = f"{len(large) / 1e6:.1f} MB"

        servers = {
            "dev": pixhaven(state, base / "dev1", path),
            "dev2": pixhaven(state, base / "dev2", path, workers=2),
            "http.server": http_server(www),
        }
        has_nginx = shutil.which("nginx") or Path("/usr/sbin/nginx").exists()
        if has_nginx:
            # No access log on either side: nginx runs with `access_log off`, so Pixhaven
            # behind it runs at LOG_LEVEL=warning (no request log line).
            quiet = {"SERVE_OBJECTS_VIA": "nginx", "LOG_LEVEL": "warning"}
            accel = pixhaven(state, base / "accel", path, **quiet)
            bucket = state / "bucket"
            servers["nginx"] = nginx(base / "nginx", www, None, path, bucket)
            servers["nginx+accel"] = nginx(base / "nginx-accel", www, accel, path, bucket)
            with accel() as url:  # Pixhaven's own answer, whose headers the floor repeats
                answer = httpx.get(url, trust_env=False)
                answer.raise_for_status()
            floor = accel_floor(base / "floor", path, answer.headers.multi_items())
            servers["nginx+floor"] = nginx(base / "nginx-floor", www, floor, path, bucket)
            accel_large = pixhaven(state, base / "accel", large_path, **quiet)
            servers["nginx large"] = nginx(
                base / "nginx", www, None, large_path, bucket, file="large.jpg"
            )
            servers["nginx+accel large"] = nginx(
                base / "nginx-accel", www, accel_large, large_path, bucket
            )
        rates = best_rates(servers)

    note = f"{size}, wrk -c32, best of {ROUNDS}×{SECONDS} s"
    figures = [
        Figure(NAME, rates["dev"], "req/s", "python -m http.server", rates["http.server"],
               target=1.0, higher_is_better=True, note=f"pixhaven dev, {note}"),
        Figure(NAME + " --workers 2", rates["dev2"], "req/s", "python -m http.server",
               rates["http.server"], target=1.0, higher_is_better=True, note="pixhaven dev"),
    ]  # fmt: skip
    if has_nginx:
        figures.append(
            Figure(NAME + " via nginx X-Accel-Redirect", rates["nginx+accel"], "req/s",
                   "nginx alone", rates["nginx"], target=0.5, higher_is_better=True,
                   note="pixhaven dev, one worker each, no access logs")
        )  # fmt: skip
        figures.append(
            Figure("the same answer from a do-nothing ASGI app via nginx", rates["nginx+floor"],
                   "req/s", "nginx alone", rates["nginx"],
                   note="bench/accel_floor.py on uvicorn: the floor under Pixhaven's figure")
        )  # fmt: skip
        figures.append(
            Figure(f"GET /r2/<{large_size} JPEG> via nginx X-Accel-Redirect",
                   rates["nginx+accel large"], "req/s", "nginx alone", rates["nginx large"],
                   note="a large file: the check per request weighs little")
        )  # fmt: skip
    return figures


if __name__ == "__main__":
    print_table(bench_serving())

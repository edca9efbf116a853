"""Benchmark: start-up, the Worker's cold-start proxy and the local server's first answer.

- `import pixhaven.app; create_app()` against `import fastapi` alone, each in a fresh
  interpreter, timed inside it (interpreter start-up excluded, as it is the same for both).
  Runs alternate so load on the shared machine falls on both sides; one untimed run of each
  first so the .pyc files exist, as they do in a deployed Worker bundle. Target: ≤ 1.5×.
- Time from starting `pixhaven dev` to its first 200 (GET /health), for information.

    .venv/bin/python bench/startup.py
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from figures import Figure, print_table

ROOT = Path(__file__).resolve().parents[1]
PIXHAVEN = Path(sys.executable).with_name("pixhaven")

# Each probe prints its wall-clock and CPU milliseconds. The figure is wall-clock; the CPU
# ratio goes beside it, as it moves less when other work shares the machine.
APP_PROBE = """
import time
started, cpu = time.perf_counter(), time.process_time()
from pixhaven.app import create_app
create_app()
print((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000)
"""

FASTAPI_PROBE = """
import time
started, cpu = time.perf_counter(), time.process_time()
import fastapi
print((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000)
"""


# Bytecode written and read, as in a deployed bundle: with PYTHONDONTWRITEBYTECODE set (as
# in some shells and CI) every run would compile Pixhaven's sources again, while
# FastAPI's .pyc files came with its installation.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _probe_ms(probe: str) -> tuple[float, float]:
    command = [sys.executable, "-c", probe]
    out = subprocess.run(
        command, check=True, capture_output=True, text=True, cwd=ROOT, env=_ENV
    ).stdout
    wall, cpu = out.split()
    return float(wall), float(cpu)


def import_medians(runs: int = 9) -> dict[str, float]:
    """Medians in ms: `app`/`fastapi` wall-clock, `app_cpu`/`fastapi_cpu` CPU time, of the
    app's import + create_app() and of `import fastapi`, in alternating fresh processes."""
    _probe_ms(APP_PROBE)
    _probe_ms(FASTAPI_PROBE)
    samples: dict[str, list[float]] = {"app": [], "app_cpu": [], "fastapi": [], "fastapi_cpu": []}
    for _ in range(runs):
        for name, probe in (("app", APP_PROBE), ("fastapi", FASTAPI_PROBE)):
            wall, cpu = _probe_ms(probe)
            samples[name].append(wall)
            samples[f"{name}_cpu"].append(cpu)
    return {name: statistics.median(values) for name, values in samples.items()}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_200_seconds(timeout: float = 60.0) -> float:
    """Seconds from launching `pixhaven dev` (fresh state folder) to its first 200."""
    with tempfile.TemporaryDirectory() as state:
        config = Path(state) / "wrangler.toml"
        text = (ROOT / "wrangler.toml").read_text(encoding="utf-8")
        migrations = f'migrations_dir = "{ROOT / "migrations"}"'
        config.write_text(text.replace('migrations_dir = "migrations"', migrations))
        port = _free_port()
        command = [str(PIXHAVEN), "--state-dir", state, "--config", str(config)]
        command += ["dev", "--host", "127.0.0.1", "--port", str(port)]
        started = time.perf_counter()
        server = subprocess.Popen(
            command, cwd=ROOT, env=_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            while time.perf_counter() - started < timeout:
                if server.poll() is not None:
                    raise RuntimeError("pixhaven dev exited during startup")
                try:
                    response = httpx.get(f"http://127.0.0.1:{port}/health", trust_env=False)
                    if response.status_code == 200:
                        return time.perf_counter() - started
                except httpx.TransportError:
                    pass
                time.sleep(0.01)
            raise RuntimeError("pixhaven dev did not answer 200")
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def bench_startup(runs: int = 9) -> list[Figure]:
    medians = import_medians(runs)
    cpu_ratio = medians["app_cpu"] / medians["fastapi_cpu"]
    first_200 = statistics.median(first_200_seconds() for _ in range(3))
    return [
        Figure(
            name="import + create_app()",
            value=medians["app"],
            unit="ms",
            reference_name="import fastapi",
            reference_value=medians["fastapi"],
            target=1.5,
            note=f"median of {runs} alternating fresh processes; CPU-time ratio {cpu_ratio:.2f}×",
        ),
        Figure(
            name="`pixhaven dev` to first 200",
            value=first_200,
            unit="s",
            note="launch to GET /health 200, median of 3",
        ),
    ]


if __name__ == "__main__":
    print_table(bench_startup())

"""The Worker path stays honest: `src/entry.py` imports only what Pyodide has, never the
local runtime, and does no I/O or randomness at import time (memory snapshots).

`workers` (the Cloudflare runtime SDK) only exists inside workerd, so the subprocess below
provides a minimal stand-in with the two names entry.py uses.
"""

import json
import subprocess
import sys
from pathlib import Path

from pixhaven.services.jobs import registry

ROOT = Path(__file__).resolve().parents[1]

# Third-party top-level packages the Worker may import: all are pure Python or part of
# Pyodide's distribution (pydantic_core is built for Pyodide). opentelemetry (API only) is a
# FastAPI dependency and python_multipart an optional Starlette one; both are pure Python.
PYODIDE_OK = {
    "fastapi",
    "starlette",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_extensions",
    "typing_inspection",
    "anyio",
    "sniffio",
    "idna",
    "annotated_doc",
    "opentelemetry",
    "python_multipart",
    "pixhaven",
    "entry",
    "workers",
    "_virtualenv",
}

PROBE = r"""
import builtins, json, os, random, secrets, socket, sys, types, uuid

# Stand-in for the Workers runtime SDK.
workers = types.ModuleType("workers")
class WorkerEntrypoint:
    def __init__(self, ctx, env):
        self.ctx, self.env = ctx, env
workers.WorkerEntrypoint = WorkerEntrypoint
workers.asgi = types.SimpleNamespace(fetch=None)
sys.modules["workers"] = workers

SRC = os.path.abspath("src")

def forbidden(what):
    # Only calls made while executing our own modules count: third-party packages may read their own files
    # (anyio reads its source), which Pyodide serves from the bundle's in-memory filesystem.
    def fail(*args, **kwargs):
        # Walk out to the nearest import: the module being executed there made the call.
        frame = sys._getframe(1)
        while frame is not None and not frame.f_code.co_filename.startswith("<frozen"):
            if frame.f_code.co_filename.startswith(SRC):
                raise AssertionError(f"{what} at import time in {frame.f_code.co_filename}")
            frame = frame.f_back
        return saved_by_name[what](*args, **kwargs)
    return fail

before = set(sys.modules)
# (namespace, attribute) pairs through which randomness, file and network I/O happen.
GUARDED = [(os, "urandom"), (random, "_urandom"), (random, "random"), (random, "getrandbits"),
           (random, "randint"), (random.SystemRandom, "random"),
           (random.SystemRandom, "getrandbits"), (random.SystemRandom, "randbytes"),
           (builtins, "open"), (socket, "getaddrinfo"), (socket, "create_connection")]
saved_by_name = {f"{getattr(ns, '__name__', ns)}.{attr}": getattr(ns, attr) for ns, attr in GUARDED}
for ns, attr in GUARDED:
    setattr(ns, attr, forbidden(f"{getattr(ns, '__name__', ns)}.{attr}"))
sys.path.insert(0, "src")
import entry
for ns, attr in GUARDED:
    setattr(ns, attr, saved_by_name[f"{getattr(ns, '__name__', ns)}.{attr}"])
new = sorted({name.split(".")[0] for name in set(sys.modules) - before})
print(json.dumps({"modules": new, "full": sorted(set(sys.modules) - before)}))
"""


def imported_by_entry() -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_entry_imports_only_pyodide_packages_and_no_local_runtime():
    result = imported_by_entry()
    third_party = {
        m
        for m in result["modules"]
        if m not in sys.stdlib_module_names and not m.startswith("_sysconfigdata")
    }
    assert third_party <= PYODIDE_OK, third_party - PYODIDE_OK
    forbidden = [
        m
        for m in result["full"]
        if m.startswith(("pixhaven.local", "uvicorn", "PIL", "httpx", "multipart"))
    ]
    assert forbidden == []


def test_binding_types_are_for_type_checking_only():
    """The binding protocols (pixhaven.bindings, all but offline_ai) are imported under
    `if TYPE_CHECKING:` only: the Worker never loads them."""
    result = imported_by_entry()
    loaded = [m for m in result["full"] if m.startswith("pixhaven.bindings.")]
    assert loaded == ["pixhaven.bindings.offline_ai"]


# What the app imports lazily, at request time, is held to the same package rule: these
# are pure Python or in Pyodide's distribution too.
PYODIDE_OK_AT_REQUEST_TIME = PYODIDE_OK | {
    "PIL",
    "fontTools",
    "fpdf",
    "defusedxml",
    "httpx",
    "httpcore",
    "h11",
    "certifi",
}

EVERY_APP_MODULE = r"""
import json, pkgutil, sys, types
workers = types.ModuleType("workers")
workers.WorkerEntrypoint = type("WorkerEntrypoint", (), {})
workers.asgi = types.SimpleNamespace(fetch=None)
sys.modules["workers"] = workers
sys.path.insert(0, "src")
before = set(sys.modules)

def import_tree(name, path):
    # Not pkgutil.walk_packages: it would import pixhaven.local just to look inside.
    for info in pkgutil.iter_modules(path, name + "."):
        if info.name == "pixhaven.local":
            continue
        module = __import__(info.name, fromlist=["_"])
        if info.ispkg:
            import_tree(info.name, module.__path__)

import pixhaven
import_tree("pixhaven", pixhaven.__path__)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_every_app_module_uses_only_pyodide_packages_and_no_local_runtime():
    """Modules the app imports lazily (the render engine, PDF, remote fetch) included."""
    completed = subprocess.run(
        [sys.executable, "-c", EVERY_APP_MODULE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    modules = json.loads(completed.stdout.strip().splitlines()[-1])
    assert not [m for m in modules if m.startswith(("pixhaven.local", "uvicorn"))]
    third_party = {m.split(".")[0] for m in modules} - set(sys.stdlib_module_names)
    third_party = {m for m in third_party if not m.startswith("_sysconfigdata")}
    assert third_party <= PYODIDE_OK_AT_REQUEST_TIME, third_party - PYODIDE_OK_AT_REQUEST_TIME


async def test_entry_handlers_drive_the_shared_worker_functions(env, monkeypatch):
    """`scheduled` and `queue` in entry.py reach pixhaven.worker with the entry's env."""
    import types

    monkeypatch.setitem(
        sys.modules,
        "workers",
        types.SimpleNamespace(
            WorkerEntrypoint=type(
                "WorkerEntrypoint",
                (),
                {
                    "__init__": lambda self, ctx, env: (
                        setattr(self, "env", env),
                        setattr(self, "ctx", ctx),
                    )[0]
                },
            ),
            asgi=types.SimpleNamespace(fetch=None),
        ),
    )
    monkeypatch.syspath_prepend(str(ROOT / "src"))
    sys.modules.pop("entry", None)
    import entry
    from pixhaven.services.jobs import queue as jobs

    seen = []

    @registry.job_handler("test.entry")
    async def handler(env_, payload):
        seen.append(payload)

    worker = entry.Default(None, env)
    job_id = await jobs.enqueue(env, "test.entry", {"via": "entry"})
    # Deliver the queue message through entry.Default.queue instead of the local consumer.
    env.JOBS.set_consumer(lambda batch: worker.queue(batch))
    await env.JOBS.drain()
    assert seen == [{"via": "entry"}]
    await worker.scheduled(types.SimpleNamespace(cron="*/15 * * * *"))
    row = await env.DB.prepare("SELECT status FROM jobs WHERE id = ?").bind(job_id).first()
    assert row["status"] == "done"
    sys.modules.pop("entry", None)

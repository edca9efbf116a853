"""The queue consumer knows every job kind, whatever else the isolate imported.

Handlers register when their module is imported; `pixhaven.worker` imports
services/jobs/kinds.py, which imports every module that registers one. The kinds expected
are found in the source (`@job_handler("…")`, `enqueue(env, "…", …)`, job rows inserted
with `kind="…"`), so a kind added anywhere but not to kinds.py fails here.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "pixhaven"

# What a fresh interpreter registers after importing the worker and nothing else.
PROBE = """
import json
import pixhaven.worker
from pixhaven.services.jobs.registry import HANDLERS, MESSAGE_HANDLERS
print(json.dumps({
    "kinds": sorted(HANDLERS),
    "message_handlers": sorted(f"{h.__module__}.{h.__qualname__}" for _, h in MESSAGE_HANDLERS),
}))
"""


@pytest.fixture(scope="module")
def registered_by_the_worker_alone() -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _name_of(function: ast.expr) -> str | None:
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute):
        return function.attr
    return None


def _text(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _modules():
    for path in sorted(SOURCE.rglob("*.py")):
        module = ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts)
        yield module.removesuffix(".__init__"), ast.parse(path.read_text())


def job_kinds_in_source() -> dict[str, set[str]]:
    """kind → where the source registers or creates a job of that kind."""
    found: dict[str, set[str]] = {}
    for module, tree in _modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name_of(node.func)
            kind = None
            if name in ("job_handler", "enqueue") and node.args:
                # job_handler("kind") / enqueue(env, "kind", payload)
                kind = _text(node.args[0] if name == "job_handler" else node.args[1])
            elif name == "insert_statement":  # a job row written directly (batch items)
                kind = next((_text(k.value) for k in node.keywords if k.arg == "kind"), None)
            if kind is not None:
                found.setdefault(kind, set()).add(module)
    return found


def message_handlers_in_source() -> set[str]:
    """module.function of every `@message_handler(...)`-decorated function."""
    return {
        f"{module}.{node.name}"
        for module, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for decorator in node.decorator_list
        if isinstance(decorator, ast.Call) and _name_of(decorator.func) == "message_handler"
    }


def test_the_source_scan_finds_the_known_kinds():
    # A sanity check of the scan itself: the kinds of each way of creating a job.
    kinds = job_kinds_in_source()
    assert "pixhaven.services.jobs.webhooks" in kinds["webhook.deliver"]  # multi-line enqueue
    assert "pixhaven.services.rendering.batch" in kinds["batch.render_item"]  # inserted row
    assert message_handlers_in_source() == {
        "pixhaven.services.images.direct_uploads.enqueue_r2_event"
    }


def test_importing_the_worker_registers_every_job_kind_of_the_source(
    registered_by_the_worker_alone,
):
    unknown_to_the_worker = {
        kind: sorted(modules)
        for kind, modules in job_kinds_in_source().items()
        if kind not in registered_by_the_worker_alone["kinds"]
    }
    assert unknown_to_the_worker == {}, (
        "import the module of each handler in services/jobs/kinds.py"
    )


def test_importing_the_worker_registers_every_message_handler_of_the_source(
    registered_by_the_worker_alone,
):
    registered = set(registered_by_the_worker_alone["message_handlers"])
    assert registered == message_handlers_in_source()

"""Fixtures of the Pyodide tests: one harness for the whole session (it takes ~25 s to
start), and httpx clients whose requests go through `entry.Default.fetch` on Pyodide with
the same response hooks as the CPython suite's clients (every error is the envelope, every
Pictify answer is on Pictify's OpenAPI)."""

import httpx
import pytest

from tests.conftest import answers_pictifys_openapi, every_error_is_an_envelope
from tests.pyodide.worker import PyodideWorker, WorkerTransport

# Soft-deleted images are kept 0 days here, so one scheduled run purges them (the CPython
# suite moves deleted_at back instead; this harness has no clock to move).
WORKER_VARS = {"SOFT_DELETE_RETENTION_DAYS": "0"}


@pytest.fixture(scope="session")
def pyodide_worker():
    worker = PyodideWorker.start_or_skip(**WORKER_VARS)
    yield worker
    worker.stop()


@pytest.fixture
async def worker_client(pyodide_worker):
    """A client on an empty database and bucket (the CPython suite's `env` is new per test)."""
    pyodide_worker.call("reset")
    async with httpx.AsyncClient(
        transport=WorkerTransport(pyodide_worker),
        base_url="http://testserver",
        event_hooks={"response": [every_error_is_an_envelope, answers_pictifys_openapi]},
    ) as http:
        yield http

"""Stand-in for workerd's `_cloudflare.allow_entropy`. workerd refuses randomness while it
builds the memory snapshot, except for calls a package patch allows; the harness takes no
snapshot and refuses nothing, so the allowance is a no-op. (tests/test_worker_path.py holds
the app's own modules to "no randomness at import time".)"""

from contextlib import contextmanager


@contextmanager
def allow_bad_entropy_calls(num_calls):
    yield

"""Stand-in for workerd's `_cloudflare.import_patch_manager`: runs a registered context
manager around the execution (or creation) of a named module, the hook through which
workers-runtime-sdk adapts packages to a runtime without threads (its `anyio.to_thread`
patch runs blocking calls inline). workerd applies these while it imports user code; here a
meta path finder does the same for every import after `install()`.

The snapshot hooks (`register_after_snapshot`, `register_before_first_request`) are kept
and run once by `run_before_first_request()`: the harness takes no memory snapshot, so
"after the snapshot" and "before the first request" are the same moment.
"""

import importlib.abc
import importlib.machinery
import sys

_exec_patches: dict = {}
_create_patches: dict = {}
_after_snapshot: dict = {}
_before_first_request: dict = {}


def _register(table, name):
    def decorate(func):
        table.setdefault(name, []).append(func)
        return func

    return decorate


def register_exec_patch(name):
    return _register(_exec_patches, name)


def register_create_patch(name):
    return _register(_create_patches, name)


def register_after_snapshot(name):
    return _register(_after_snapshot, name)


def register_before_first_request(name):
    return _register(_before_first_request, name)


def block_calls(module, allowlist=()):
    """workerd refuses calls into a module until the snapshot is restored; without a
    snapshot nothing needs refusing."""


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader, name):
        self._loader, self._name = loader, name

    def create_module(self, spec):
        patches = _create_patches.get(self._name, [])
        if not patches:
            return self._loader.create_module(spec)
        with _nested(patches, None):
            return self._loader.create_module(spec)

    def exec_module(self, module):
        with _nested(_exec_patches.get(self._name, []), module):
            self._loader.exec_module(module)


class _nested:
    def __init__(self, patches, module):
        self._managers = [patch(module) for patch in patches]

    def __enter__(self):
        for manager in self._managers:
            manager.__enter__()

    def __exit__(self, *exc):
        for manager in reversed(self._managers):
            manager.__exit__(*exc)
        return False


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in _exec_patches and name not in _create_patches:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, name)
                return spec
        return None


def install():
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


def run_before_first_request():
    for table in (_after_snapshot, _before_first_request):
        for name, hooks in table.items():
            if name in sys.modules:
                for hook in hooks:
                    hook(sys.modules[name])


install()

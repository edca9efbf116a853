"""The layer rule (tests/layers.py): who may import whom in src/pixhaven."""

from pathlib import Path

import pytest

from tests.layers import MAY_IMPORT, Violation, check_layers

SOURCE = Path(__file__).resolve().parents[1] / "src" / "pixhaven"


def test_pixhaven_follows_the_layer_rule():
    violations = check_layers(SOURCE)
    if violations:
        pytest.fail("imports against the layer rule:\n" + "\n".join(map(str, violations)), False)


def test_every_package_of_pixhaven_has_a_layer():
    top_level = {path.stem for path in SOURCE.iterdir() if path.suffix == ".py" or path.is_dir()}
    top_level -= {"__init__", "__pycache__"}
    assert top_level <= set(MAY_IMPORT)


# -- the checker, on a tiny package of its own -------------------------------------------


def make_package(root: Path, sources: dict[str, str]) -> Path:
    """Write `pkg/...` files under root, with an __init__.py in every directory."""
    for name, source in sources.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for directory in [root / "pkg", *(root / "pkg").rglob("*")]:
        if directory.is_dir() and not (directory / "__init__.py").exists():
            (directory / "__init__.py").write_text("")
    return root / "pkg"


def test_allowed_imports_are_not_reported(tmp_path):
    package = make_package(
        tmp_path,
        {
            "pkg/__init__.py": '__version__ = "1"\n',
            "pkg/app.py": "from pkg.routers import pictify\n",
            "pkg/routers/pictify/__init__.py": "from pkg.routers.pictify.images import router\n",
            "pkg/routers/pictify/images.py": (
                "import pkg\n"
                "from pkg.services.images import store\n"
                "from pkg.routers.pictify import batch\n"
                "from pkg.render.document import Document\n"
            ),
            "pkg/routers/pictify/batch.py": "",
            "pkg/services/images/store.py": "from pkg.db import images\n",
            "pkg/db/images.py": "from pkg.db.d1 import fetch_one\n",
            "pkg/db/d1.py": "def fetch_one(): ...\n",
            "pkg/render/document.py": "",
            "pkg/local/runtime/cli.py": "from pkg.app import create_app\n",
        },
    )
    assert check_layers(package) == []


def test_a_router_reading_the_database_is_reported(tmp_path):
    package = make_package(
        tmp_path, {"pkg/routers/x.py": "from pkg.db import images\n", "pkg/db/images.py": ""}
    )

    assert check_layers(package) == [
        Violation("pkg.routers.x", "pkg.db.images", "routers may not import db")
    ]


def test_imports_inside_functions_and_under_type_checking_count(tmp_path):
    package = make_package(
        tmp_path,
        {
            "pkg/db/images.py": (
                "def purge():\n"
                "    from pkg.services.jobs import queue\n"  # a lower layer reaching up
            ),
            "pkg/imaging/formats.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from pkg.render.engine import Canvas\n"
            ),
            "pkg/services/jobs/queue.py": "",
            "pkg/render/engine.py": "",
        },
    )
    assert check_layers(package) == [
        Violation("pkg.db.images", "pkg.services.jobs.queue", "db may not import services"),
        Violation("pkg.imaging.formats", "pkg.render.engine", "imaging may not import render"),
    ]


def test_a_dialect_may_not_import_another_dialect(tmp_path):
    package = make_package(
        tmp_path,
        {
            "pkg/routers/cattopic/images.py": "",
            "pkg/routers/splinterpic/collections.py": (
                "from pkg.routers.cattopic.images import image_shape\n"
            ),
        },
    )
    assert check_layers(package) == [
        Violation(
            "pkg.routers.splinterpic.collections",
            "pkg.routers.cattopic.images",
            "routers.splinterpic may not import routers.cattopic",
        )
    ]


def test_only_the_local_runtime_may_load_the_local_package(tmp_path):
    package = make_package(
        tmp_path,
        {
            "pkg/worker.py": "import pkg.local.bindings.d1\n",
            "pkg/local/bindings/d1.py": "from pkg.bindings import offline_ai\n",
            "pkg/local/runtime/server.py": "from pkg.local.bindings import d1\n",
            "pkg/bindings/offline_ai.py": "",
        },
    )
    assert check_layers(package) == [
        Violation("pkg.worker", "pkg.local.bindings.d1", "worker may not import local.bindings")
    ]


def test_relative_imports_are_resolved(tmp_path):
    package = make_package(
        tmp_path,
        {
            "pkg/net/fetch.py": "from ..services import remote\n",
            "pkg/services/remote.py": "",
        },
    )
    assert check_layers(package) == [
        Violation("pkg.net.fetch", "pkg.services.remote", "net may not import services")
    ]


def test_a_module_outside_every_layer_is_reported(tmp_path):
    package = make_package(
        tmp_path,
        {"pkg/plugins/extra.py": "from pkg.errors import ApiError\n", "pkg/errors.py": ""},
    )

    assert check_layers(package) == [
        Violation("pkg.plugins.extra", "pkg.errors", "module in no layer of the table")
    ]

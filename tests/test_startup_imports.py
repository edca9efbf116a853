"""Start-up stays light: building the app imports none of the modules only rare routes need
(they are imported by the call that needs them), and not pydantic.v1 (app.py hides it from
FastAPI's check while routes are built). Each check runs in a fresh interpreter, where
`sys.modules` says exactly what `create_app()` imported; the guard fails when someone adds a
top-level import of one of these back. No timing here: bench/startup.py measures.
"""

import json
import subprocess
import sys

from .conftest import ROOT

# Imported by the first call that needs them, never by create_app().
LAZY = (
    "pydantic.v1",  # FastAPI's "is it a v1 model?" check (app._pydantic_v1_hidden)
    "PIL",  # pixels: local Images binding, render raster, own sources
    "fpdf",  # PDF output
    "fontTools",  # font subsetting for SVG/PDF
    "httpx",  # outbound fetches, local AI
    "pixhaven.render.engine",
    "pixhaven.render.layout",
    "pixhaven.render.raster",
    "pixhaven.render.svg",
    "pixhaven.render.gif",
    "pixhaven.render.pdf",
    "pixhaven.render.sources",
    "pixhaven.local",  # the local bindings and server: never on the Worker path
)

PROBE = """
import json, sys
from pixhaven.app import {names}
app = create_app()
{after}
print(json.dumps({{
    "loaded": sorted(m for m in {lazy!r} if m in sys.modules),
    "routes": len(app.routes),
}}))
"""


def fresh_process(after: str = "", names: str = "create_app") -> dict:
    probe = PROBE.format(names=names, after=after, lazy=LAZY)
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(result.stdout)


def test_create_app_imports_none_of_the_lazy_modules():
    report = fresh_process()
    assert report["loaded"] == []
    assert report["routes"] > 10  # the probe did build the real app


def test_building_every_route_for_the_snapshot_keeps_pydantic_v1_out():
    # src/entry.py calls build_deferred(app) at import: the Worker's snapshot has every
    # route built and the render document's validators, still without pydantic.v1 or the
    # render engine.
    report = fresh_process(after="build_deferred(app)", names="build_deferred, create_app")
    assert report["loaded"] == []


def test_pydantic_v1_still_imports_for_whoever_asks_after_start_up():
    after = "import pydantic.v1\nassert pydantic.v1.BaseModel"
    report = fresh_process(after=after)
    assert report["loaded"] == ["pydantic.v1"]

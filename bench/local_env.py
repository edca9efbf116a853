"""The local environment every benchmark measures against: Pixhaven's local bindings in a
throwaway state folder, with admin token `bench`."""

import sys
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "bench"


@asynccontextmanager
async def local_env():
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    from pixhaven.local.runtime.config import load_config
    from pixhaven.local.runtime.env import build_local_env

    with tempfile.TemporaryDirectory() as state:
        env = await build_local_env(
            load_config(ROOT / "wrangler.toml"), Path(state), {"ADMIN_TOKEN": ADMIN_TOKEN}
        )
        try:
            yield env
        finally:
            await env.close()

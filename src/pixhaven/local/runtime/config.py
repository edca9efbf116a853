"""The local server's configuration: the same wrangler.toml and .dev.vars that wrangler reads.

`[vars]` give the settings, `.dev.vars` (dotenv format, as wrangler uses) adds secrets and
overrides vars, `[[ratelimits]]`, the queue consumer and `[triggers] crons` configure the
emulated bindings, `[assets]` the static files served before the app (local/runtime/assets.py,
as Workers Static Assets does). With no wrangler.toml at hand, the embedded defaults below
apply.
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

# The repository that holds this package when it is installed in editable mode (the
# README's way); used to find wrangler.toml and migrations/ from any working directory.
SOURCE_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class AssetsConfig:
    """wrangler.toml's `[assets]`, with Cloudflare's defaults for what it leaves out."""

    directory: Path
    html_handling: str = "auto-trailing-slash"
    not_found_handling: str = "none"
    # False, True, or Cloudflare's route patterns (`/api/*`, `!/api/docs/*`).
    run_worker_first: bool | tuple[str, ...] = False


def parse_assets(section: dict, folder: Path) -> AssetsConfig:
    """`[assets]` of the wrangler.toml in `folder` (its `directory` is relative to it)."""
    if "directory" not in section:
        raise ValueError("wrangler.toml: [assets] needs a directory")
    first = section.get("run_worker_first", False)
    return AssetsConfig(
        directory=(folder / section["directory"]).resolve(),
        html_handling=section.get("html_handling", "auto-trailing-slash"),
        not_found_handling=section.get("not_found_handling", "none"),
        run_worker_first=first if isinstance(first, bool) else tuple(first),
    )


@dataclass
class LocalConfig:
    vars: dict[str, str] = field(default_factory=dict)
    migrations_dir: Path | None = None
    rate_limit: int = 100
    rate_period: int = 60
    queue_name: str = "pixhaven-jobs"
    queue_max_batch_size: int = 10
    queue_max_batch_timeout: float = 5
    queue_max_retries: int = 3
    crons: list[str] = field(default_factory=list)
    assets: AssetsConfig | None = None
    source: Path | None = None


def find_wrangler_toml(start: Path | None = None) -> Path | None:
    for candidate in (Path(start or Path.cwd()) / "wrangler.toml", SOURCE_ROOT / "wrangler.toml"):
        if candidate.is_file():
            return candidate
    return None


def parse_dev_vars(text: str) -> dict[str, str]:
    """dotenv lines: KEY=value, optional quotes, `#` comments, `export ` prefix tolerated."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


def load_config(wrangler_toml: Path | None = None, dev_vars: Path | None = None) -> LocalConfig:
    path = wrangler_toml or find_wrangler_toml()
    config = LocalConfig()
    if path is None:
        return config
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    config.source = path
    config.vars = {key: str(value) for key, value in data.get("vars", {}).items()}
    for database in data.get("d1_databases", []):
        if database.get("binding") == "DB":
            config.migrations_dir = path.parent / database.get("migrations_dir", "migrations")
    for limiter in data.get("ratelimits", []):
        if limiter.get("name") == "RATE_LIMITER":
            simple = limiter.get("simple", {})
            config.rate_limit = int(simple.get("limit", config.rate_limit))
            config.rate_period = int(simple.get("period", config.rate_period))
    for consumer in data.get("queues", {}).get("consumers", []):
        config.queue_name = consumer.get("queue", config.queue_name)
        config.queue_max_batch_size = int(consumer.get("max_batch_size", 10))
        config.queue_max_batch_timeout = float(consumer.get("max_batch_timeout", 5))
        config.queue_max_retries = int(consumer.get("max_retries", 3))
    config.crons = list(data.get("triggers", {}).get("crons", []))
    if "assets" in data:
        config.assets = parse_assets(data["assets"], path.parent)
    secrets_file = dev_vars or path.parent / ".dev.vars"
    if secrets_file.is_file():
        config.vars.update(parse_dev_vars(secrets_file.read_text(encoding="utf-8")))
    return config

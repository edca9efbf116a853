"""Settings read from the Worker's environment: `[vars]` in wrangler.toml plus secrets.

On Cloudflare they are attributes of `env`; the local runtime builds an `env` with the same
attributes from the same wrangler.toml and `.dev.vars`, so this module never needs to know
where it runs. README.md ("Configuration") documents each one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import MutableMapping
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Any

from pixhaven.numerals import is_ascii_digits

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env


@dataclass(frozen=True)
class Settings:
    admin_token: str = ""
    public_base_url: str = ""
    allowed_ips: str = ""
    default_owner: str = "default_user"
    max_upload_bytes: int = 15 * 1024 * 1024  # what a Worker isolate can process (README)
    # PixelFlare's "File exceeds 100MB limit", for bytes put straight into R2 (presigned).
    direct_upload_max_bytes: int = 100 * 1024 * 1024
    max_json_bytes: int = 5 * 1024 * 1024
    max_upload_pixels: int = 100_000_000
    # Pixels this process may hold decoded at once (decode_budget.py); 0: no budget.
    max_decoded_pixels: int = 48_000_000
    decode_wait_seconds: int = 30  # how long work waits for the budget before a 503
    max_upload_count: int = 50
    max_components: int = 10
    render_monthly_limit: int = 0
    # PixelFlare's documented upload limits, per owner (POST /v1/images); 0: no limit.
    upload_rate_per_minute: int = 10
    upload_daily_limit: int = 1000
    # Pictify's request limits per API key, its Free plan (services/rate_limits.py); 0: off.
    pictify_rate_per_minute: int = 60
    pictify_daily_limit: int = 1000
    image_quality: int = 80
    image_resizing: str = "binding"
    soft_delete_retention_days: int = 30
    orphan_grace_seconds: int = 3600
    cors_allow_origin: str = "*"
    log_level: str = "info"
    upload_signing_secret: str = ""  # secret; empty: derived from admin_token
    upload_url_ttl_seconds: int = 900
    r2_access_key_id: str = ""  # secret; with the next three: R2 presigned uploads
    r2_secret_access_key: str = ""  # secret
    r2_account_id: str = ""
    r2_bucket_name: str = ""
    access_team_domain: str = ""  # with access_aud: Cloudflare Access JWTs accepted
    access_aud: str = ""
    access_scopes: tuple[str, ...] = ("images:read", "images:write")
    # Cloudflare's Browser Rendering REST API, where no companion browser Worker is bound:
    # with both set it renders screenshots and PDFs (net/browser_rest.py).
    browser_rendering_account_id: str = ""
    browser_rendering_api_token: str = ""  # secret
    # env.AI's instruction model for POST /image/agent-screenshot; empty: that route is 503.
    ai_instruction_model: str = "@cf/meta/llama-3.1-8b-instruct"
    # Self-hosted behind nginx/Caddy (README, "Behind nginx or Caddy"): after its checks the
    # app answers a public object request with X-Accel-Redirect ("nginx", to
    # accel_redirect_prefix + file name) or X-Sendfile ("sendfile", the file's path), and
    # the web server sends the bytes. Empty: the app sends them itself.
    serve_objects_via: str = ""
    accel_redirect_prefix: str = "/_pixhaven_objects/"
    # Test suite only: loopback (host, port) pairs binding data fetches may reach
    # (net/fetch.py `allow`); anything but a loopback address is refused when read.
    outbound_test_allow: tuple[tuple[str, int], ...] = ()

    @property
    def access_enabled(self) -> bool:
        return bool(self.access_team_domain and self.access_aud)

    @classmethod
    def from_env(cls, env: Env) -> Settings:
        """The settings of `env`'s variables, parsed once for each set of values: every
        request asks (the middleware, handlers), and parsing is ~50 µs of a ~600 µs object
        request, while reading the raw values is ~4."""
        raw = tuple(map(getattr, repeat(env), ENV_NAMES, repeat(None)))  # a C loop
        try:
            return _PARSED[raw]
        except KeyError:
            pass
        except TypeError:  # a value that cannot be a key (a JSON [vars] entry): no caching
            return cls._parse(dict(zip(ENV_NAMES, raw, strict=True)))
        settings = cls._parse(dict(zip(ENV_NAMES, raw, strict=True)))
        if len(_PARSED) >= 8:  # a handful of envs at most (tests make many): stay bounded
            _PARSED.clear()
        _PARSED[raw] = settings
        return settings

    @classmethod
    def _parse(cls, values: dict[str, object]) -> Settings:
        def text(name: str, default: str) -> str:
            value = values[name]  # a KeyError: `name` is missing from ENV_NAMES
            return default if value is None else str(value)

        def number(name: str, default: int) -> int:
            raw = text(name, "").strip()
            try:
                return int(raw) if raw else default
            except ValueError:
                raise ValueError(f"setting {name} must be an integer, got {raw!r}") from None

        defaults = cls()
        return cls(
            admin_token=text("ADMIN_TOKEN", defaults.admin_token),
            public_base_url=text("PUBLIC_BASE_URL", defaults.public_base_url).rstrip("/"),
            allowed_ips=text("ALLOWED_IPS", defaults.allowed_ips),
            default_owner=text("DEFAULT_OWNER", defaults.default_owner) or defaults.default_owner,
            max_upload_bytes=number("MAX_UPLOAD_BYTES", defaults.max_upload_bytes),
            direct_upload_max_bytes=number(
                "DIRECT_UPLOAD_MAX_BYTES", defaults.direct_upload_max_bytes
            ),
            max_json_bytes=number("MAX_JSON_BYTES", defaults.max_json_bytes),
            max_upload_pixels=number("MAX_UPLOAD_PIXELS", defaults.max_upload_pixels),
            max_decoded_pixels=number("MAX_DECODED_PIXELS", defaults.max_decoded_pixels),
            decode_wait_seconds=number("DECODE_WAIT_SECONDS", defaults.decode_wait_seconds),
            max_upload_count=number("MAX_UPLOAD_COUNT", defaults.max_upload_count),
            max_components=number("MAX_COMPONENTS", defaults.max_components),
            render_monthly_limit=number("RENDER_MONTHLY_LIMIT", defaults.render_monthly_limit),
            upload_rate_per_minute=number(
                "UPLOAD_RATE_PER_MINUTE", defaults.upload_rate_per_minute
            ),
            upload_daily_limit=number("UPLOAD_DAILY_LIMIT", defaults.upload_daily_limit),
            pictify_rate_per_minute=number(
                "PICTIFY_RATE_PER_MINUTE", defaults.pictify_rate_per_minute
            ),
            pictify_daily_limit=number("PICTIFY_DAILY_LIMIT", defaults.pictify_daily_limit),
            image_quality=number("IMAGE_QUALITY", defaults.image_quality),
            image_resizing=text("IMAGE_RESIZING", defaults.image_resizing),
            soft_delete_retention_days=number(
                "SOFT_DELETE_RETENTION_DAYS", defaults.soft_delete_retention_days
            ),
            orphan_grace_seconds=max(
                0, number("ORPHAN_GRACE_SECONDS", defaults.orphan_grace_seconds)
            ),
            cors_allow_origin=text("CORS_ALLOW_ORIGIN", defaults.cors_allow_origin) or "*",
            log_level=text("LOG_LEVEL", defaults.log_level),
            upload_signing_secret=text("UPLOAD_SIGNING_SECRET", ""),
            upload_url_ttl_seconds=number(
                "UPLOAD_URL_TTL_SECONDS", defaults.upload_url_ttl_seconds
            ),
            r2_access_key_id=text("R2_ACCESS_KEY_ID", "").strip(),
            r2_secret_access_key=text("R2_SECRET_ACCESS_KEY", "").strip(),
            r2_account_id=text("R2_ACCOUNT_ID", "").strip(),
            r2_bucket_name=text("R2_BUCKET_NAME", "").strip(),
            access_team_domain=team_domain(text("ACCESS_TEAM_DOMAIN", "")),
            access_aud=text("ACCESS_AUD", "").strip(),
            ai_instruction_model=text(
                "AI_INSTRUCTION_MODEL", defaults.ai_instruction_model
            ).strip(),
            access_scopes=tuple(
                scope
                for scope in (part.strip() for part in text("ACCESS_SCOPES", "").split(","))
                if scope
            )
            or defaults.access_scopes,
            browser_rendering_account_id=text("BROWSER_RENDERING_ACCOUNT_ID", "").strip(),
            browser_rendering_api_token=text("BROWSER_RENDERING_API_TOKEN", "").strip(),
            serve_objects_via=one_of(
                "SERVE_OBJECTS_VIA", text("SERVE_OBJECTS_VIA", ""), ("", "nginx", "sendfile")
            ),
            accel_redirect_prefix=path_prefix(
                "ACCEL_REDIRECT_PREFIX",
                text("ACCEL_REDIRECT_PREFIX", defaults.accel_redirect_prefix),
            ),
            outbound_test_allow=loopback_pairs(text("OUTBOUND_TEST_ALLOW", "")),
        )


# Every variable `Settings.from_env` reads (its cache key).
ENV_NAMES: tuple[str, ...] = (
    "ACCEL_REDIRECT_PREFIX",
    "ACCESS_AUD",
    "ACCESS_SCOPES",
    "ACCESS_TEAM_DOMAIN",
    "ADMIN_TOKEN",
    "AI_INSTRUCTION_MODEL",
    "ALLOWED_IPS",
    "BROWSER_RENDERING_ACCOUNT_ID",
    "BROWSER_RENDERING_API_TOKEN",
    "CORS_ALLOW_ORIGIN",
    "DECODE_WAIT_SECONDS",
    "DEFAULT_OWNER",
    "DIRECT_UPLOAD_MAX_BYTES",
    "IMAGE_QUALITY",
    "IMAGE_RESIZING",
    "LOG_LEVEL",
    "MAX_COMPONENTS",
    "MAX_DECODED_PIXELS",
    "MAX_JSON_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_COUNT",
    "MAX_UPLOAD_PIXELS",
    "ORPHAN_GRACE_SECONDS",
    "OUTBOUND_TEST_ALLOW",
    "PICTIFY_DAILY_LIMIT",
    "PICTIFY_RATE_PER_MINUTE",
    "PUBLIC_BASE_URL",
    "R2_ACCESS_KEY_ID",
    "R2_ACCOUNT_ID",
    "R2_BUCKET_NAME",
    "R2_SECRET_ACCESS_KEY",
    "RENDER_MONTHLY_LIMIT",
    "SERVE_OBJECTS_VIA",
    "SOFT_DELETE_RETENTION_DAYS",
    "UPLOAD_DAILY_LIMIT",
    "UPLOAD_RATE_PER_MINUTE",
    "UPLOAD_SIGNING_SECRET",
    "UPLOAD_URL_TTL_SECONDS",
)
_PARSED: dict[tuple[object, ...], Settings] = {}


def request_settings(scope: MutableMapping[str, Any], env: Env | None) -> Settings:
    """The settings of the request whose ASGI scope is `scope`: read from `env` once per
    request (the middleware asks first) and kept in the request's state, where handlers'
    `get_settings` and the services that serve objects find them. Reading them is ~40
    attribute lookups: a few microseconds of a request that is only a few dozen long."""
    state = scope.setdefault("state", {})
    settings: Settings | None = state.get("settings")
    if settings is None:
        settings = state["settings"] = Settings.from_env(env) if env is not None else Settings()
    return settings


def one_of(name: str, raw: str, choices: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in choices:
        allowed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"setting {name} must be one of {allowed}, got {raw!r}")
    return value


def path_prefix(name: str, raw: str) -> str:
    """A URL path that starts and ends with `/`, as an nginx `location` prefix does."""
    value = raw.strip()
    if not (value.startswith("/") and value.endswith("/")) or any(c in value for c in "?#\\ "):
        raise ValueError(f"setting {name} must be a path like /_pixhaven_objects/, got {raw!r}")
    return value


def loopback_pairs(raw: str) -> tuple[tuple[str, int], ...]:
    """OUTBOUND_TEST_ALLOW: comma-separated `127.0.0.1:8123` / `[::1]:8123` as (host, port).
    Anything that is not a loopback address literal with a port is a ValueError: the setting
    exists for the test suite's own servers and must never open the outbound rules wider."""
    pairs = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        host = host.strip("[]").lower()
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not sep or not is_ascii_digits(port) or not 0 < int(port) < 65536 or not loopback:
            raise ValueError(
                f"setting OUTBOUND_TEST_ALLOW takes loopback host:port pairs only, got {item!r}"
            )
        pairs.append((host, int(port)))
    return tuple(pairs)


def team_domain(raw: str) -> str:
    """`myteam.cloudflareaccess.com` from that, `https://myteam.cloudflareaccess.com/` or
    (the team name alone) `myteam`."""
    domain = raw.strip().lower()
    for prefix in ("https://", "http://"):
        if domain.startswith(prefix):
            domain = domain[len(prefix) :]
    domain = domain.rstrip("/")
    if domain and "." not in domain:
        domain += ".cloudflareaccess.com"
    return domain

"""Which layer of Pixhaven may import which: the rule, and a checker that reads the source.

Every module belongs to the layer whose name is the longest prefix of its dotted name below
the package (`pixhaven.services.images.store` is in `services`, `pixhaven.local.bindings.d1`
in `local.bindings`). A layer may import only what its line of `MAY_IMPORT` lists; an entry
covers that module and everything below it (`render.document` allows the document schema,
not the render engine). Every import counts, wherever it is written: at the top, inside a
function, under `if TYPE_CHECKING:`.

    from tests.layers import check_layers
    check_layers(Path("src/pixhaven"))  # [] when the tree follows the rule
"""

import ast
from dataclasses import dataclass
from pathlib import Path

# Stands, in a layer's line, for the importer's own package within that layer: for
# `routers.pictify.batch` it is `routers.pictify` (its dialect), for `routers.system` the
# module itself.
OWN_PACKAGE = "<own package>"

# The package root (`pixhaven/__init__.py`) holds `__version__` and imports nothing:
# every layer may read it.
PACKAGE_ROOT = ""

# Everything the Worker loads: what the top modules may import.
WORKER_LAYERS = (
    "app",
    "worker",
    "middleware",
    "routers",
    "services",
    "security",
    "models",
    "render",
    "net",
    "imaging",
    "db",
    "bindings",
    "interop",
    "dependencies",
    "errors",
    "settings",
    "timeutil",
    "cron",
    "decode_budget",
    "json_depth",
    "numerals",
)

MAY_IMPORT: dict[str, tuple[str, ...]] = {
    # The package root: `__version__` only.
    PACKAGE_ROOT: (),
    # The application, the Worker's handlers and the middleware assemble everything the
    # Worker runs; none of them may load the local emulation.
    "app": WORKER_LAYERS,
    "worker": WORKER_LAYERS,
    "middleware": WORKER_LAYERS,
    # Thin HTTP adapters: they parse, authorise and call services. Never the database
    # (reads and writes go through services), never another dialect's routers.
    "routers": (
        "services",
        "models",  # the OpenAPI documentation of their routes
        "security",  # authentication and scopes
        "dependencies",
        "errors",
        "settings",
        "timeutil",
        "bindings",
        "json_depth",  # the JSON nesting guard read_json applies
        "numerals",  # integer query parameters
        "render.document",  # Craftr's request body is the document schema itself
        "routers.requests",  # request helpers shared by every dialect
        "routers.native_json",  # the response for answers built as JSON values
        "routers.api_images",  # the /api/* image answer CattoPic and Splinterpic share
        "routers.direct_route",  # the route class of the public serving paths
        OWN_PACKAGE,  # its own dialect; a dialect's __init__ declares its routers
    ),
    # What the API does, one domain per package; the only layer that combines storage,
    # rendering, outbound HTTP and the image engine.
    "services": (
        "services",
        "db",
        "render",
        "net",
        "imaging",
        "security",  # API keys are issued with the token and scope rules of security
        "errors",
        "settings",
        "timeutil",
        "numerals",
        "cron",  # a binding's refresh schedule
        "bindings",
        "interop",  # binding values in the shapes the Worker runtime gives and takes
        "decode_budget",  # the upload's decode check leases its pixels
    ),
    # Who is calling: API keys are looked up in the database, Cloudflare Access signing
    # keys fetched over HTTP; `dependencies` gives it the request's env.
    "security": (
        "security",
        "db",
        "net",
        "dependencies",
        "errors",
        "settings",
        "timeutil",
        "bindings",
    ),
    # OpenAPI documentation models: they describe, never act.
    "models": (
        "models",
        "render.document",  # Pictify's documented bodies embed the document schema
        "security.scopes",  # the scope names an API key may carry
        "errors",
        "numerals",  # the number pattern the documents give
    ),
    # The renderer: documents to SVG/PNG/GIF/PDF, fetching remote images and fonts.
    # Image sources are decoded in process: they take their pixels from the decode budget.
    "render": (
        "render",
        "net",
        "imaging",
        "errors",
        "bindings",
        "interop",
        "decode_budget",
        "numerals",
    ),
    # Outbound HTTP, with the address checks; it sniffs the format of fetched images. The
    # Browser Rendering REST client implements the browser binding's Protocol (types only).
    "net": ("net", "imaging", "errors", "numerals", "bindings.browser"),
    # The image-format engine: bytes in, bytes out.
    "imaging": ("imaging", "errors"),
    # SQL, one module per table; it knows the D1 binding and the clock, nothing above.
    "db": ("db", "errors", "timeutil", "bindings"),
    # The foundation, importing nothing above it: the Python faces of Cloudflare
    # bindings, the error type, the clock, the settings, and the FastAPI dependencies
    # (which build the settings from the request's env).
    "bindings": ("bindings",),
    # Binding values at runtime: bytes out of array buffers and chunks, a stream out of
    # bytes for env.IMAGES, options without absent fields (typed by bindings).
    "interop": ("interop", "bindings"),
    # How deeply JSON nests, counted as it arrives (middleware, routers.requests).
    "json_depth": ("json_depth",),
    # The Worker entry's request bodies, read as the app asks (src/entry.py only).
    "streamed_body": ("streamed_body", "interop"),
    "errors": ("errors", "numerals"),
    # Numbers written as text, read as HTTP, URLs and JavaScript read them (ASCII digits).
    "numerals": ("numerals",),
    # The process's decoded-pixel budget; its refusals are API errors (413, 503).
    "decode_budget": ("decode_budget", "errors"),
    "timeutil": ("timeutil",),
    # Five-field cron expressions (bindings' schedules, the local server's triggers).
    "cron": ("cron", "numerals"),
    # Both read the env; its type is the bindings' Env (imported for type checking only).
    "settings": ("settings", "bindings", "numerals"),
    "dependencies": ("dependencies", "settings", "bindings"),
    # The local runtime: `local/__init__` is a plain package; the emulated bindings
    # implement the Cloudflare APIs (and may share their Python faces with the Worker);
    # the runtime (CLI, server, cron) drives everything. Nothing else imports `local`:
    # the Worker must never load it.
    "local": (),
    # The Images emulation decodes in this process, so it draws on the same decoded-pixel
    # budget as the app's own decodes (on Cloudflare the binding decodes elsewhere). The
    # browser emulation fetches what its pages load under the app's outbound rules (`net`).
    "local.bindings": ("local.bindings", "bindings", "interop", "decode_budget", "net"),
    "local.runtime": (*WORKER_LAYERS, "local"),
}


@dataclass(frozen=True)
class Violation:
    module: str
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.module} -> {self.imported} ({self.rule})"


def check_layers(
    package_dir: Path, may_import: dict[str, tuple[str, ...]] = MAY_IMPORT
) -> list[Violation]:
    """Every import inside the package that its importer's layer may not make, sorted."""
    package = package_dir.name
    modules = _modules(package_dir)
    violations = set()
    for module, path in modules.items():
        layer = _layer_of(_below(module, package), may_import)
        for imported in _imports(module, path, modules):
            below = _below(imported, package)
            if below is None:
                continue  # the standard library or a dependency
            if layer is None:
                violations.add(Violation(module, imported, "module in no layer of the table"))
            elif not _allowed(below, _below(module, package), layer, may_import[layer]):
                rule = _broken_rule(below, _below(module, package), layer, may_import)
                violations.add(Violation(module, imported, rule))
    return sorted(violations, key=lambda v: (v.module, v.imported))


def _modules(package_dir: Path) -> dict[str, Path]:
    """Dotted name → file of every module in the package (a package is its __init__)."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules `module` imports, anywhere in its source. `from a import b` imports
    `a.b` when that is a module of the package, else `a` (b is a name defined in a)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node.level, node.module)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else base)
    return found


def _absolute(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of a (possibly relative) `from … import`."""
    if level == 0:
        return name or ""
    parts = module.split(".")
    parent = parts if is_package else parts[:-1]
    base = parent[: len(parent) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _below(module: str, package: str) -> str | None:
    """`pixhaven.db.images` → `db.images`; the package itself → ""; outside it → None."""
    if module == package:
        return PACKAGE_ROOT
    if module.startswith(package + "."):
        return module[len(package) + 1 :]
    return None


def _covers(entry: str, name: str) -> bool:
    return name == entry or name.startswith(entry + ".")


def _layer_of(name: str, may_import: dict[str, tuple[str, ...]]) -> str | None:
    """The longest layer name covering `name` (PACKAGE_ROOT covers only the root)."""
    return max((layer for layer in may_import if _covers(layer, name)), key=len, default=None)


def _own_package(module: str, layer: str) -> str:
    """The importer's package one level below its layer (`routers.pictify` for
    `routers.pictify.batch`), or the module itself when it sits right in the layer."""
    depth = len(layer.split(".")) + 1
    return ".".join(module.split(".")[:depth])


def _broken_rule(imported: str, module: str, layer: str, may_import) -> str:
    imported_layer = _layer_of(imported, may_import)
    if imported_layer == layer:  # another package of the same layer (e.g. another dialect)
        return f"{_own_package(module, layer)} may not import {_own_package(imported, layer)}"
    return f"{layer} may not import {imported_layer or imported}"


def _allowed(imported: str, module: str, layer: str, entries: tuple[str, ...]) -> bool:
    if imported == PACKAGE_ROOT:
        return True
    for entry in entries:
        if entry == OWN_PACKAGE:
            entry = _own_package(module, layer)
        if _covers(entry, imported):
            return True
    return False

"""The bindings contract, as Python sees it through Pyodide and the Workers Python SDK.

The modules here are types only (`typing.Protocol`s and `TypedDict`s, described in
docs/BINDINGS.md): `env.py` (the `Env` every handler gets), `d1.py`, `r2.py`, `images.py`,
`queue.py`, `ratelimit.py`, `ai.py`, and `js.py` (JS values: array buffers, streams). App
code imports them only under `if TYPE_CHECKING:`, so they never load on the Worker; the local
emulations in `pixhaven.local.bindings` satisfy them, and mypy checks that. A new binding gets
its own module here and a property on `Env`.

Methods are written as Python calls them: JS names (`arrayBuffer`, `sendBatch`), positional
arguments positional-only, options as keyword arguments (the SDK turns them into the one
trailing options object), promises as awaitables.

`offline_ai.py` is the exception: constants shared at runtime by the local Workers AI
stand-in and the AI service.
"""

"""Stand-in for workerd's `_cloudflare` package, for the Pyodide harness (tests/pyodide/).

workerd ships this package inside its Python runtime; workers-runtime-sdk's
`_workers_sdk_patch_loader` imports its package patches only when it exists. The harness
provides just the two modules the SDK uses (docs/BINDINGS.md, "The Worker on Pyodide").
"""

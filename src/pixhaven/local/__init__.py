"""The local runtime: Pixhaven on one machine. `bindings/` emulates Cloudflare's bindings
(held to the contract in docs/BINDINGS.md), `runtime/` is the `pixhaven` CLI, the server,
the cron loop and the env they build. The Worker never imports this package."""

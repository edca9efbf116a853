"""The local runtime around the app: configuration from wrangler.toml and .dev.vars, the env
of emulated bindings, migrations, the server, the cron loop, fonts, and the `pixhaven` CLI."""

"""Emulations of the Cloudflare bindings the app uses: D1 on SQLite, R2 on a folder, Images
on Pillow, the queue, the rate limiter and Workers AI. They accept and refuse what workerd
does (tests/contract runs the same suite against Miniflare)."""

"""Pixhaven: an image platform for Cloudflare Python Workers that also runs locally.

`pixhaven.app.create_app()` builds the one FastAPI application; `src/entry.py` serves it on
Cloudflare and `pixhaven.local` serves it on one machine with emulated bindings.
"""

__version__ = "0.1.0"

"""Hosting images: the upload pipeline, the one image writer (store.py), names and keys, the
caller's-image lookup, edits, soft delete and purge, PixelFlare's two-step uploads, albums
and tags."""

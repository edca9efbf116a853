"""Rendering for Craftr and Pictify: the render entry, stored renders and usage, monthly
quota, Idempotency-Key, templates, GIF and PDF, and batch rendering."""

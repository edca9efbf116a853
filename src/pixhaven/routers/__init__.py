"""Thin HTTP adapters, one package per dialect; shared request helpers in requests.py, and
the /api image answer CattoPic and Splinterpic both give in api_images.py. The logic lives
in pixhaven.services."""

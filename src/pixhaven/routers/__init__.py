"""Thin HTTP adapters, one package per dialect; shared request helpers in requests.py and
forms.py, the /api image answer CattoPic and Splinterpic share in api_images.py. The logic
lives in pixhaven.services."""

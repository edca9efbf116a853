"""The offline preview model's marks. The local stand-in for Workers AI
(local/bindings/ai.py) writes OFFLINE_MARKER_KEY = OFFLINE_MODEL into the PNG text chunks of
what it draws; services/ai/generate.py reads the mark and records the image under that
model, never the requested one. Shared here because bindings sit below the services."""

OFFLINE_MODEL = "@pixhaven/offline-preview"
OFFLINE_MARKER_KEY = "pixhaven:model"

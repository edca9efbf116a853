"""Serving images to the public: objects with ETag, Range and conditional requests, the CDN
paths, variants and transformations made on first request, and the random image."""

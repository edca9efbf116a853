"""What the API does, one package per domain (images, delivery, rendering, ai, jobs); the
routers call it, and it is the only layer that combines the database, the renderer,
outbound HTTP and the image engine."""

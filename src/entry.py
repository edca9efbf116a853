"""The Cloudflare Worker entry point.

Only adapts Cloudflare's handlers to Pixhaven: HTTP goes to the FastAPI app through the
`workers.asgi` adapter (with the request body streamed to the app, `pixhaven.streamed_body`),
the cron trigger and the queue consumer go to `pixhaven.worker`.
Everything imported here must exist in Pyodide and do no I/O or randomness at import time.
"""

from workers import WorkerEntrypoint, asgi

from pixhaven.app import build_deferred, create_app
from pixhaven.middleware import cloudflare_client_address
from pixhaven.streamed_body import body_stream, reading_body_from, without_body
from pixhaven.worker import run_queue, run_scheduled

app = create_app()
# At import, so the work is in the memory snapshot, not on the first requests after restore.
build_deferred(app)
served_app = cloudflare_client_address(app)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        app = reading_body_from(served_app, body_stream(request))
        return await asgi.fetch(app, without_body(request), self.env, self.ctx)

    async def scheduled(self, controller, env=None, ctx=None):
        await run_scheduled(self.env, getattr(controller, "cron", ""))

    async def queue(self, batch, env=None, ctx=None):
        await run_queue(self.env, batch)

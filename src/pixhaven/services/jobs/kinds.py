"""Every job kind and queue-message handler, in one place.

A feature module registers its handlers (`@job_handler("kind")`, `@message_handler(...)` in
services/jobs/registry.py) when it is imported. The queue consumer runs in an isolate that
may not have imported the routers, so worker.py imports this module, and this module
imports every feature module that registers a handler: whatever else was imported, the
consumer knows every kind. A module that adds a kind is added here
(tests/test_job_kinds.py fails otherwise).
"""

from pixhaven.services.bindings import refresh as bindings  # binding.refresh
from pixhaven.services.delivery import variants  # variants.generate
from pixhaven.services.images import (
    direct_uploads,  # upload.complete, R2 event messages
    store,  # objects.delete
    updates,  # image.purge
)
from pixhaven.services.jobs import webhooks  # webhook.deliver
from pixhaven.services.rendering import batch  # batch.render_item

# Named so that the imports above are used: importing them is what registers the handlers.
MODULES_WITH_HANDLERS = (variants, direct_uploads, store, updates, webhooks, batch, bindings)

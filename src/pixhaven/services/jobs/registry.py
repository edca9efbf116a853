"""The job kinds the queue consumer knows: `@job_handler("kind")` registers the function that
runs a kind's payload, `@message_handler(predicate)` one for queue messages that are not job
wake-ups (R2 event notifications). Registration happens when the owning module is imported;
services/jobs/kinds.py imports every such module so the worker knows them all."""

from collections.abc import Awaitable, Callable

JobHandler = Callable[[object, dict], Awaitable[None]]


# kind → async handler(env, payload). Feature modules register their kinds at import;
# services/jobs/kinds.py imports all of them (the worker imports it).
HANDLERS: dict[str, JobHandler] = {}


# Queue messages that are not job wake-ups (R2 event notifications): (predicate, handler).
MESSAGE_HANDLERS: list[tuple[Callable[[object], bool], JobHandler]] = []


def job_handler(kind: str):
    def register(fn: JobHandler) -> JobHandler:
        HANDLERS[kind] = fn
        return fn

    return register


def message_handler(matches: Callable[[object], bool]):
    def register(fn: JobHandler) -> JobHandler:
        MESSAGE_HANDLERS.append((matches, fn))
        return fn

    return register

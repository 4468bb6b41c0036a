"""A real arq worker of one queue (``workers.settings``) running in the test's event loop, and
a teardown that neither hangs nor hides the test's own failure."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from gnews.app import document_models
from gnews.config import Settings
from gnews.core.persistence import init_documents, mongo_client
from workers.settings import ResilientWorker, worker_settings

STOP_SECONDS = 30.0  # generous: the suite may run on a loaded machine


@contextlib.asynccontextmanager
async def running_worker(
    settings: Settings,
    queue: str,
    *,
    startup: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    **options: Any,
) -> AsyncIterator[ResilientWorker]:
    """The worker of ``queue`` running until the block ends; ``startup`` runs after the worker's
    own start-up (e.g. to swap a transport); ``options``: arq options (e.g. ``poll_delay``)."""
    values = worker_settings(settings, queue)
    if startup is not None:
        own_startup = values["on_startup"]

        async def on_startup(ctx: dict[str, Any]) -> None:
            await own_startup(ctx)
            await startup(ctx)

        values["on_startup"] = on_startup
    worker = ResilientWorker(**{**values, "handle_signals": False, **options})
    task = worker.main_task = asyncio.create_task(worker.main())
    body_failed = False
    try:
        yield worker
    except BaseException:
        body_failed = True
        raise
    finally:
        problem = await stop_worker(worker, task)
        # The worker bound beanie's (process-wide) documents to its own client, now closed.
        await init_documents(
            mongo_client(settings.mongodb_uri or ""), settings.mongodb_db, document_models()
        )
        if problem is not None:
            if body_failed:  # the test's own failure is the one to see; this one is a note
                warnings.warn(f"worker teardown after a failed test: {problem!r}", stacklevel=1)
            else:
                raise problem


async def stop_worker(worker: ResilientWorker, task: asyncio.Task[None]) -> BaseException | None:
    """Stop the worker's polling loop and close it, each within :data:`STOP_SECONDS`; returns
    what went wrong (a worker that crashed, a close that failed or hung), or None.

    Cancellation of the worker's own tasks is expected here and never escapes; a cancellation
    of the test itself still does (``asyncio.wait`` does not swallow it)."""
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=STOP_SECONDS)
    problem: BaseException | None = None
    if not done:
        problem = TimeoutError(f"the worker's polling loop did not stop within {STOP_SECONDS} s")
    elif not task.cancelled() and task.exception() is not None:
        problem = task.exception()  # it crashed while the test ran
    closing = asyncio.create_task(worker.close())
    done, _ = await asyncio.wait([closing], timeout=STOP_SECONDS)
    if not done:
        closing.cancel()
        problem = problem or TimeoutError(f"the worker did not close within {STOP_SECONDS} s")
    elif closing.exception() is not None:
        problem = problem or closing.exception()
    return problem

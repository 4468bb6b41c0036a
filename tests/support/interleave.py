"""Replaying an interleaving of two writers deterministically: stop one just before it writes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

WAIT_SECONDS = 60.0


class PauseBeforeWrite:
    """Wraps an async write function (``update_one``, ``find_one_and_update``…) as a module
    sees it: the first call stops until :meth:`resume`, after the caller has read what it
    read; the test changes the record meanwhile, then lets the write go on.

    ``monkeypatch.setattr(module, "update_one", pause := PauseBeforeWrite(module.update_one))``
    """

    def __init__(self, write: Callable[..., Awaitable[Any]]) -> None:
        self._write = write
        self._reached = asyncio.Event()
        self._resume = asyncio.Event()
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            self._reached.set()
            await self._resume.wait()
        return await self._write(*args, **kwargs)

    async def reached(self) -> None:
        """Wait until the first call is stopped before its write."""
        await asyncio.wait_for(self._reached.wait(), WAIT_SECONDS)

    def resume(self) -> None:
        """Let the stopped write go on."""
        self._resume.set()

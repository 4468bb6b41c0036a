"""What every push gateway emulator shares: its recorder and faults, ``async with``, and (for
the HTTP/1.1 ones: FCM, HMS, Web Push) one aiohttp application listening on loopback."""

from __future__ import annotations

from typing import Self

from aiohttp import web

from gnews.dev.emulators.faults import Faults, Recorder

NO_FAULTS = {"rate_429": 0.0, "rate_503": 0.0, "fail_next": [], "unregistered": [], "latency": 0.0}


class Emulator:
    """An emulator: ``async with`` it, or :meth:`start` / :meth:`stop`."""

    recorder: Recorder
    faults: Faults

    def reset(self) -> None:
        """Forget received messages and injected failures."""
        self.recorder.clear()
        self.faults.update(dict(NO_FAULTS))

    async def start(self) -> Self:
        """Start listening."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop listening."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class HttpEmulator(Emulator):
    """An emulator that is the aiohttp application ``app`` on ``host``:``port``."""

    app: web.Application
    host: str
    port: int
    _runner: web.AppRunner | None = None

    async def start(self) -> Self:
        """Listen (on a free port when ``port`` is 0)."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Stop listening and close connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

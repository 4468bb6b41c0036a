"""Parsing untrusted feeds in child processes bounded in CPU time, wall time and memory.

A hostile or broken feed can make feedparser and the sanitiser work for minutes (a 1 MB feed
with 100,000 attributes on one element cost 212 s of CPU, 100,000 nested ``<div>``s 71 s) and
hold the worker's event loop and GIL meanwhile. :class:`ParserPool` runs
:func:`~workers.feeds.normalize.parse_feed` in a few long-lived child processes instead, one
feed at a time each:

* CPU: before each feed the child lowers its own soft ``RLIMIT_CPU`` to the CPU time it has
  used plus ``cpu_seconds``; the kernel ends it with SIGXCPU beyond that, even inside C code;
* wall time: the parent kills a child that has not answered within ``timeout_seconds``;
* memory: the child's address space is capped (``RLIMIT_AS``) at ``memory_bytes``.

A child that was killed or died is replaced by a new one for the next feed; the feed gets a
:class:`ParseLimitError` (a :class:`~workers.feeds.normalize.FeedParseError`) that says which
limit it hit, and the poll records it on the source.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import subprocess
import sys
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import structlog

from workers.feeds.normalize import FeedParseError, ParsedFeed, parse_feed

log = structlog.get_logger(__name__)

__all__ = ["ParseLimitError", "ParserPool"]

CPU_SECONDS = 10.0
TIMEOUT_SECONDS = 30.0
MEMORY_BYTES = 1024 * 1024 * 1024
PROCESSES = 2

# The children are fresh interpreters (not forks of a process running an event loop and
# threads) that import this module from where the parent did.
_CODE_ROOT = str(Path(__file__).resolve().parents[2])


class ParseLimitError(FeedParseError):
    """The feed was refused: parsing it went over a CPU, time or memory limit."""


def _serve(requests: Connection, answers: Connection, memory_bytes: int) -> None:
    """The child's loop: parse each feed sent, answer ``(kind, value)``."""
    if memory_bytes:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, hard))
    _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    while True:
        try:
            cpu_seconds, body, options = requests.recv()
        except (EOFError, OSError):
            return
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(usage.ru_utime + usage.ru_stime + cpu_seconds) + 1
        if cpu_hard != resource.RLIM_INFINITY:
            soft = min(soft, cpu_hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, cpu_hard))
        try:
            answer: tuple[str, Any] = ("ok", parse_feed(body, **options))
        except FeedParseError as error:
            answer = ("parse", str(error))
        except MemoryError:
            answer = ("memory", None)
        except RecursionError:
            answer = ("parse", "not a feed: its elements are nested too deeply")
        except Exception as error:  # a parser bug on odd input: the feed is refused, not the pool
            answer = ("error", f"{type(error).__name__}: {error}")
        answers.send(answer)


class _Child:
    """One parsing process and the parent's end of its pipes."""

    def __init__(self, memory_bytes: int) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([_CODE_ROOT, *sys.path[1:]])}
        code = (
            "import sys; from workers.feeds.parser_pool import _main; "
            f"_main({to_child_r}, {from_child_w}, {memory_bytes})"
        )
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code],
                pass_fds=(to_child_r, from_child_w),
                env=env,
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.send_conn = Connection(to_child_w, readable=False)
        self.recv_conn = Connection(from_child_r, writable=False)

    def call(self, request: tuple[float, bytes, dict[str, Any]]) -> tuple[str, Any]:
        """Send one feed and wait for the answer (blocking: run in a thread)."""
        self.send_conn.send(request)
        return self.recv_conn.recv()

    @property
    def exitcode(self) -> int | None:
        """The process's exit code (negative: the signal that ended it), None while alive."""
        return self.process.poll()

    def kill(self) -> None:
        """End the process now (idempotent)."""
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.wait(timeout=5)
        self._close_pipes()

    def stop(self) -> None:
        """Close the pipes (the child's loop ends), then make sure the process is gone."""
        self._close_pipes()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()

    def _close_pipes(self) -> None:
        for conn in (self.send_conn, self.recv_conn):
            with contextlib.suppress(Exception):
                conn.close()


def _main(receive_fd: int, send_fd: int, memory_bytes: int) -> None:
    """The child process's entry point."""
    _serve(
        Connection(receive_fd, writable=False), Connection(send_fd, readable=False), memory_bytes
    )


class ParserPool:
    """Up to ``processes`` feeds parsed at once, each in a child process bounded by
    ``cpu_seconds`` of CPU, ``timeout_seconds`` of wall time and ``memory_bytes`` of address
    space (see the module docstring). Children start on first use and are reused."""

    def __init__(
        self,
        processes: int = PROCESSES,
        *,
        cpu_seconds: float = CPU_SECONDS,
        timeout_seconds: float = TIMEOUT_SECONDS,
        memory_bytes: int = MEMORY_BYTES,
    ) -> None:
        self.cpu_seconds = cpu_seconds
        self.timeout_seconds = timeout_seconds
        self.memory_bytes = memory_bytes
        self._slots = asyncio.Semaphore(processes)
        self._idle: list[_Child] = []
        self._busy: set[_Child] = set()
        self.replaced = 0  # children killed or lost and replaced so far

    async def parse(
        self,
        body: bytes,
        *,
        content_type: str | None = None,
        base_url: str | None = None,
        fetched_at: datetime | None = None,
    ) -> ParsedFeed:
        """:func:`~workers.feeds.normalize.parse_feed` in a bounded child process; raises
        :class:`FeedParseError` for a body that is not a feed and :class:`ParseLimitError`
        when a limit was hit."""
        options = {"content_type": content_type, "base_url": base_url, "fetched_at": fetched_at}
        async with self._slots:
            child = self._idle.pop() if self._idle else await asyncio.to_thread(self._start)
            self._busy.add(child)
            try:
                kind, value = await asyncio.wait_for(
                    asyncio.to_thread(child.call, (self.cpu_seconds, body, options)),
                    self.timeout_seconds,
                )
            except TimeoutError:
                self._lose(child)
                raise ParseLimitError(
                    f"feed refused: parsing it took over {self.timeout_seconds:g} s"
                ) from None
            except (EOFError, OSError):
                self._lose(child)
                raise ParseLimitError(self._death_reason(child)) from None
            except BaseException:  # cancelled: the child may be mid-feed, start afresh
                self._lose(child)
                raise
            self._busy.discard(child)
            self._idle.append(child)
        if kind == "ok":
            return value
        if kind == "memory":
            raise ParseLimitError(
                f"feed refused: parsing it needed over {self.memory_bytes // 2**20} MB of memory"
            )
        if kind == "error":
            raise FeedParseError(f"the feed could not be parsed ({value})")
        raise FeedParseError(value)

    def _start(self) -> _Child:
        return _Child(self.memory_bytes)

    def _lose(self, child: _Child) -> None:
        self._busy.discard(child)
        child.kill()
        self.replaced += 1

    def _death_reason(self, child: _Child) -> str:
        code = child.exitcode
        if code == -signal.SIGXCPU:
            return f"feed refused: parsing it used over {self.cpu_seconds:g} s of CPU"
        if code in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
            return f"feed refused: the parser process died (signal {-code}), likely out of memory"
        return f"feed refused: the parser process ended unexpectedly (exit code {code})"

    async def aclose(self) -> None:
        """Stop every child (those still parsing are killed)."""
        idle, self._idle = self._idle, []
        busy, self._busy = list(self._busy), set()
        for child in busy:
            child.kill()
        await asyncio.gather(*(asyncio.to_thread(child.stop) for child in idle))

"""What an emulator records, and the failures it is told to inject."""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field, fields
from typing import Any

MAX_RECORDED = 10_000  # messages kept in memory; counters cover all of them


@dataclass
class Faults:
    """Failures to inject. Changed at start (constructor, `gnews emulators` options) or at run
    time (:meth:`update`, ``POST /_emulator/<name>/faults``).

    ``rate_429`` / ``rate_503``: share of requests answered 429 / 503 with ``Retry-After:
    retry_after``; ``fail_next``: statuses for the next requests, in order (e.g. ``[429, 503]``);
    ``unregistered``: tokens the gateway no longer knows, like ``unregistered_prefix``;
    ``latency``: seconds added before each answer.
    """

    rate_429: float = 0.0
    rate_503: float = 0.0
    retry_after: int = 1
    fail_next: list[int] = field(default_factory=list)
    unregistered: set[str] = field(default_factory=set)
    unregistered_prefix: str | None = None
    latency: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._check()

    def _check(self) -> None:
        if not (0 <= self.rate_429 <= 1 and 0 <= self.rate_503 <= 1):
            raise ValueError("rates must be between 0 and 1")
        if self.retry_after < 0 or self.latency < 0:
            raise ValueError("retry_after and latency must not be negative")
        if any(status not in (429, 500, 503) for status in self.fail_next):
            raise ValueError("fail_next takes 429, 500 and 503")

    def update(self, changes: dict[str, Any]) -> None:
        """Apply changes given as JSON (unknown names raise ValueError)."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            if name == "unregistered":
                value = set(value)
            elif name == "fail_next":
                value = [int(status) for status in value]
            setattr(self, name, value)
        self._check()
        if "seed" in changes:
            self._random = random.Random(self.seed)

    def injected_status(self) -> int | None:
        """The failure status to answer this request with, if any."""
        if self.fail_next:
            return self.fail_next.pop(0)
        if self.rate_429 or self.rate_503:
            draw = self._random.random()
            if draw < self.rate_429:
                return 429
            if draw < self.rate_429 + self.rate_503:
                return 503
        return None

    def is_unregistered(self, token: str) -> bool:
        """Whether the gateway answers "unregistered" for this token."""
        return token in self.unregistered or bool(
            self.unregistered_prefix and token.startswith(self.unregistered_prefix)
        )

    def as_json(self) -> dict[str, Any]:
        """The current settings, for ``GET /_emulator/<name>/faults``."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["unregistered"] = sorted(self.unregistered)
        return values


@dataclass(slots=True)
class Received:
    """One request the emulator accepted (status 200)."""

    token: str
    payload: dict[str, Any]
    headers: dict[str, str]
    at: float


class Recorder:
    """The last accepted messages and a count of every answer by outcome."""

    def __init__(self, keep: int = MAX_RECORDED) -> None:
        self.messages: deque[Received] = deque(maxlen=keep)
        self.counts: Counter[str] = Counter()
        self.request_times: deque[float] = deque(maxlen=keep)  # every request, for back-off checks

    def request(self) -> None:
        """Count one request (any outcome)."""
        self.counts["requests"] += 1
        self.request_times.append(time.monotonic())

    def accept(self, token: str, payload: dict[str, Any], headers: dict[str, str]) -> None:
        """Record an accepted message."""
        self.counts["accepted"] += 1
        self.messages.append(Received(token, payload, headers, time.time()))

    def refuse(self, outcome: str) -> None:
        """Count a refused request by its outcome (``429``, ``unregistered``, …)."""
        self.counts[outcome] += 1

    def for_token(self, token: str) -> list[Received]:
        """The accepted messages sent to ``token``."""
        return [message for message in self.messages if message.token == token]

    def clear(self) -> None:
        """Forget everything."""
        self.messages.clear()
        self.counts.clear()
        self.request_times.clear()

    def as_json(self, limit: int = 100) -> dict[str, Any]:
        """Counters and the last ``limit`` messages, for ``GET /_emulator/<name>/received``."""
        last = list(self.messages)[-limit:] if limit else []
        return {
            "counts": dict(self.counts),
            "messages": [
                {"token": m.token, "payload": m.payload, "headers": m.headers, "at": m.at}
                for m in last
            ],
        }

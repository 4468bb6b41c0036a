"""Retries of one token's request, shared by the push transports: capped attempts, exponential
back-off with jitter, Retry-After honoured, and a transport-wide pause when the gateway says
"slow down" (FCM's quota is per project, so every request waits, not only the one refused)."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from gnews.specs import PushOutcome


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long a transport retries a transient failure of one token."""

    max_attempts: int = 5
    base_delay: float = 0.5  # seconds before the 2nd attempt (halved to doubled by jitter)
    max_delay: float = 30.0
    # A longer Retry-After ends the attempts at once: the token is reported failed with
    # ``retry_after`` so the send job can defer the batch instead of holding a worker slot.
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait after failed attempt number ``attempt``, or None to give up."""
        if attempt >= self.max_attempts:
            return None
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            return retry_after + random.uniform(0, self.base_delay / 2)
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return backoff / 2 + random.uniform(0, backoff / 2)  # "equal jitter"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class PauseGate:
    """A transport-wide "not before": set by a Retry-After, awaited before every attempt."""

    def __init__(self) -> None:
        self._until = 0.0

    def hold(self, seconds: float) -> None:
        """Make every attempt wait at least ``seconds`` from now."""
        self._until = max(self._until, time.monotonic() + seconds)

    async def wait(self) -> None:
        """Sleep until the pause, if any, is over."""
        while (remaining := self._until - time.monotonic()) > 0:
            await asyncio.sleep(remaining)


@dataclass(frozen=True, slots=True)
class Attempt:
    """The result of one request for one token, as a transport classifies it."""

    kind: Literal["sent", "invalid_token", "failed", "retry"]
    reason: str | None = None
    retry_after: float | None = None


async def deliver(
    token: str,
    attempt_once: Callable[[str], Awaitable[Attempt]],
    policy: RetryPolicy,
    gate: PauseGate,
) -> PushOutcome:
    """Send to one token with retries; the outcome of its last attempt."""
    attempt = 0
    while True:
        await gate.wait()
        attempt += 1
        result = await attempt_once(token)
        if result.kind != "retry":
            return PushOutcome(
                token=token,
                status=result.kind,
                reason=result.reason,
                retry_after=result.retry_after,
                attempts=attempt,
            )
        delay = policy.delay(attempt, result.retry_after)
        if delay is None:
            return PushOutcome(
                token=token,
                status="failed",
                reason=result.reason,
                retry_after=result.retry_after,
                attempts=attempt,
            )
        if result.retry_after is not None:
            gate.hold(result.retry_after)
        await asyncio.sleep(delay)

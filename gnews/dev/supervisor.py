"""``gnews dev``: start and supervise the whole system on one machine.

Order of start: embedded MongoDB and Redis (unless configured), the push gateway emulators
(unless real FCM/APNs are configured), then the API and the worker as child processes. A child
that dies is restarted with back-off. Ctrl-C / SIGTERM stops the API and the worker first, then
the emulators, Redis and MongoDB, removes the runtime file and releases the lock. Every child
also gets SIGTERM from the kernel if the supervisor itself is killed (no orphans).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gnews.config import Settings
from gnews.dev.embedded import (
    DevLock,
    DevRuntime,
    EmbeddedServerError,
    PushEmulatorProcess,
    ServerProcess,
    child_env,
    clear_runtime,
    port_in_use,
    running_dev,
    spawn,
    start_mongodb,
    start_push_emulators,
    start_redis,
    stop_process,
    write_runtime,
)

READY_TIMEOUT_SECONDS = 90.0
RESTART_BACKOFF_MAX_SECONDS = 30.0


def say(message: str) -> None:
    """A line for the person at the terminal (the children's logs go there too)."""
    print(f"[gnews dev] {message}", file=sys.stderr, flush=True)


@dataclass
class Child:
    """The API or the worker, restarted with back-off when it dies."""

    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default=0.0)

    def start(self) -> None:
        """Start (or restart) the process; its output goes to our terminal."""
        self.process = spawn(self.argv, env=self.env)
        self.started_at = time.monotonic()

    def check(self, now: float) -> None:
        """Restart the process if it has died, backing off when it keeps dying."""
        if self.process is None or self.process.poll() is None:
            return
        if self.next_start == 0.0:
            code = self.process.returncode
            if now - self.started_at > 60:
                self.restarts = 0
            delay = min(2.0**self.restarts, RESTART_BACKOFF_MAX_SECONDS)
            say(f"{self.name} exited with code {code}; restarting in {delay:.0f}s")
            self.next_start = now + delay
            self.restarts += 1
        elif now >= self.next_start:
            self.next_start = 0.0
            self.start()


class DevSupervisor:
    """Runs ``gnews dev`` until it is asked to stop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir.resolve()
        self.lock = DevLock(self.data_dir)
        self.servers: list[ServerProcess] = []
        self.children: list[Child] = []
        self.stopping = False
        self.push_emulators: PushEmulatorProcess | None = None

    @property
    def api_url(self) -> str:
        """Base URL of the API."""
        host = self.settings.http_host
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        return f"http://{shown}:{self.settings.http_port}"

    def _request_stop(self, signum: int, _frame: object) -> None:
        if not self.stopping:
            say(f"received {signal.Signals(signum).name}; stopping")
        self.stopping = True

    def run(self) -> int:
        """Start everything, supervise, stop cleanly; returns the exit code."""
        if not self.lock.acquire():
            dev = running_dev(self.data_dir)
            where = f" (pid {dev.pid}, API at {dev.api_url})" if dev else ""
            say(
                f"gnews dev is already running for {self.data_dir}{where}. "
                "Stop it first (Ctrl-C in its terminal), or use another GNEWS_DATA_DIR."
            )
            return 1
        try:
            if port_in_use(self.settings.http_host, self.settings.http_port):
                say(
                    f"port {self.settings.http_port} on {self.settings.http_host} is in use by "
                    "another program; set GNEWS_HTTP_PORT to a free port"
                )
                return 1
            signal.signal(signal.SIGINT, self._request_stop)
            signal.signal(signal.SIGTERM, self._request_stop)
            return self._run_locked()
        finally:
            self._stop_all()
            clear_runtime(self.data_dir)
            self.lock.release()

    def _run_locked(self) -> int:
        _ = self.settings.signing_key  # create the dev secret once, before the children race for it
        try:
            mongodb_uri = self.settings.mongodb_uri or self._start(start_mongodb).url
            redis_url = self.settings.redis_url or self._start(start_redis).url
            push_env = self._start_push_emulators()
        except EmbeddedServerError as error:
            say(str(error))
            return 1
        if self.stopping:
            return 0
        write_runtime(self.data_dir, DevRuntime(os.getpid(), mongodb_uri, redis_url, self.api_url))
        env = child_env(
            GNEWS_MONGODB_URI=mongodb_uri,
            GNEWS_REDIS_URL=redis_url,
            GNEWS_DATA_DIR=str(self.data_dir),
            **push_env,
        )
        python = [sys.executable, "-m", "gnews"]
        self.children = [
            Child("API", [*python, "serve"], env),
            Child("worker", [*python, "worker"], env),
        ]
        for child in self.children:
            child.start()
        if not self._wait_ready():
            return 0 if self.stopping else 1
        self._banner(mongodb_uri, redis_url)
        while not self.stopping:
            now = time.monotonic()
            for child in self.children:
                child.check(now)
            time.sleep(0.2)
        return 0

    def _start(self, starter: Callable[[Path], ServerProcess]) -> ServerProcess:
        server = starter(self.data_dir)
        self.servers.append(server)
        return server

    def _emulated_gateways(self) -> tuple[bool, bool]:
        """(FCM, APNs): emulate each gateway for which neither endpoint nor credentials are set."""
        configured = self.settings.model_fields_set
        return (
            not {"fcm_endpoint", "fcm_credentials"} & configured,
            not {"apns_endpoint", "apns_key_file"} & configured,
        )

    def _start_push_emulators(self) -> dict[str, str]:
        fcm, apns = self._emulated_gateways()
        if not (fcm or apns):
            return {}
        self.push_emulators = start_push_emulators(self.data_dir)
        self.servers.append(self.push_emulators.server)
        return self.push_emulators.env(fcm=fcm, apns=apns)

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        url = f"{self.api_url}/health/ready"
        while time.monotonic() < deadline and not self.stopping:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.3)
        if not self.stopping:
            say(f"the API did not become ready within {READY_TIMEOUT_SECONDS:.0f}s ({url})")
        return False

    def _banner(self, mongodb_uri: str, redis_url: str) -> None:
        def origin(configured: str | None, store: str) -> str:
            return "configured" if configured else f"embedded, data in {self.data_dir / store}"

        lines = [
            "G-News is running",
            f"  API:           {self.api_url}/api/v1",
            f"  OpenAPI docs:  {self.api_url}/schema  (Swagger UI: {self.api_url}/schema/swagger)",
            f"  Health:        {self.api_url}/health/ready",
            f"  MongoDB:       {mongodb_uri} ({origin(self.settings.mongodb_uri, 'mongodb')})",
            f"  Redis:         {redis_url} ({origin(self.settings.redis_url, 'redis')})",
            *self._push_lines(),
            f"  Server logs:   {self.data_dir / 'log'}",
            "  First admin:   gnews users create --email you@example.org --role admin",
            "Press Ctrl-C to stop.",
        ]
        print("\n".join(lines), file=sys.stderr, flush=True)

    def _push_lines(self) -> list[str]:
        fcm, apns = self._emulated_gateways()
        emulators = self.push_emulators
        control = f"{emulators.fcm_url}/_emulator" if emulators else ""
        lines = []
        if emulators and fcm:
            lines.append(f"  FCM:           {emulators.fcm_url} (emulator; {control}/fcm/received)")
        else:
            lines.append(f"  FCM:           {self.settings.fcm_endpoint} (configured)")
        if emulators and apns:
            lines.append(
                f"  APNs:          {emulators.apns_url} (emulator; {control}/apns/received)"
            )
        else:
            lines.append(f"  APNs:          {self.settings.apns_endpoint} (configured)")
        return lines

    def _stop_all(self) -> None:
        live = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in live:
            process.terminate()
        for process in live:
            stop_process(process)
        for server in reversed(self.servers):
            server.stop()
        if live or self.servers:
            say("stopped")


def run_dev(settings: Settings) -> int:
    """Entry point of ``gnews dev``."""
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    return DevSupervisor(settings).run()

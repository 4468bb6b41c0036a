"""``gnews dev``: start and supervise the whole system on one machine.

Order of start: embedded MongoDB and Redis (unless configured), the push gateway emulators
(unless real FCM/APNs are configured), then the API and the worker as child processes. A child
that dies is restarted with back-off; so is an embedded server, reaped and started again on the
same port (the API and the worker reconnect to the URL they have). Ctrl-C / SIGTERM stops the
API and the worker first, then the emulators, Redis and MongoDB, removes the runtime file and
releases the lock. Every child also gets SIGTERM from the kernel if the supervisor itself is
killed (no orphans).
"""

from __future__ import annotations

import os
import shlex
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
    free_port,
    port_in_use,
    register_dev,
    running_dev,
    spawn,
    start_mongodb,
    start_push_emulators,
    start_redis,
    stop_process,
    unregister_dev,
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


@dataclass
class EmbeddedServer:
    """An embedded server (MongoDB, Redis, the emulators) started again when it dies.

    ``start`` always uses the same port, so the URL the API and the worker were given stays
    right. Polling the process reaps it: a killed server never lingers as a zombie.
    """

    what: str
    start: Callable[[], ServerProcess]
    server: ServerProcess | None = None
    failures: int = 0
    next_start: float = 0.0

    def check(self, now: float) -> None:
        """Restart the server if it has died (with back-off while restarting fails)."""
        if self.server is None or self.server.process.poll() is None or now < self.next_start:
            return
        if self.failures == 0:
            say(f"{self.what} exited with code {self.server.process.returncode}; restarting")
        try:
            self.server = self.start()
        except EmbeddedServerError as error:
            self.failures += 1
            delay = min(2.0**self.failures, RESTART_BACKOFF_MAX_SECONDS)
            say(f"{self.what} did not restart ({error}); trying again in {delay:.0f}s")
            self.next_start = now + delay
            return
        self.failures = 0
        say(f"{self.what} restarted ({self.server.url})")


class DevSupervisor:
    """Runs ``gnews dev`` until it is asked to stop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir.resolve()
        self.lock = DevLock(self.data_dir)
        self.embedded: list[EmbeddedServer] = []
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
            note = register_dev(self.data_dir)
            try:
                return self._run_locked()
            finally:
                unregister_dev(note)
        finally:
            self._stop_all()
            clear_runtime(self.data_dir)
            self.lock.release()

    def _run_locked(self) -> int:
        _ = self.settings.signing_key  # create the dev secret once, before the children race for it
        settings = self.settings
        try:
            mongodb_uri = (
                settings.mongodb_uri
                or self._start(
                    "embedded MongoDB", start_mongodb, self._port("GNEWS_DEV_MONGODB_PORT")
                ).url
            )
            redis_url = (
                settings.redis_url
                or self._start(
                    "embedded Redis", start_redis, self._port("GNEWS_DEV_REDIS_PORT")
                ).url
            )
            push_env = self._start_push_emulators()
        except EmbeddedServerError as error:
            say(str(error))
            return 1
        if self.stopping:
            return 0
        write_runtime(
            self.data_dir,
            DevRuntime(os.getpid(), mongodb_uri, redis_url, self.api_url, push_env),
        )
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
            for server in self.embedded:
                server.check(now)
            for child in self.children:
                child.check(now)
            time.sleep(0.2)
        return 0

    def _port(self, setting: str) -> int:
        """The port named by ``setting`` (GNEWS_DEV_*_PORT), or a free one when it is 0."""
        port = getattr(self.settings, setting.removeprefix("GNEWS_").lower())
        if not port:
            return free_port()
        if port_in_use("127.0.0.1", port):
            raise EmbeddedServerError(
                f"port {port} ({setting}) is in use by another program; set {setting} to a "
                "free port, or to 0 for any free port"
            )
        return port

    def _start(
        self, what: str, starter: Callable[..., ServerProcess], *ports: int
    ) -> ServerProcess:
        embedded = EmbeddedServer(what, lambda: starter(self.data_dir, *ports))
        embedded.server = embedded.start()
        self.embedded.append(embedded)
        return embedded.server

    def _emulated_gateways(self) -> tuple[bool, bool]:
        """(FCM, APNs): emulate each gateway for which neither endpoint nor credentials are set."""
        configured = self.settings.model_fields_set
        return (
            not {"fcm_endpoint", "fcm_credentials"} & configured,
            not {"apns_endpoint", "apns_key_file"} & configured,
        )

    def _emulated_hms(self) -> bool:
        """Whether to emulate HMS Push Kit: none of its app id, secret or endpoints is set."""
        configured = self.settings.model_fields_set
        return not {
            "hms_app_id", "hms_client_secret", "hms_token_endpoint", "hms_push_endpoint"
        } & configured  # fmt: skip

    def _emulated_webpush(self) -> bool:
        """Whether Web Push uses the development VAPID key (none is configured); its push
        service emulator runs beside the others either way."""
        return "webpush_vapid_key_file" not in self.settings.model_fields_set

    def _start_push_emulators(self) -> dict[str, str]:
        fcm, apns = self._emulated_gateways()
        hms = self._emulated_hms()
        webpush = self._emulated_webpush()
        if not (fcm or apns or hms or webpush):
            return {}
        ports = (
            self._port("GNEWS_DEV_FCM_PORT"),
            self._port("GNEWS_DEV_APNS_PORT"),
            self._port("GNEWS_DEV_WEBPUSH_PORT"),
        )
        self.push_emulators = start_push_emulators(self.data_dir, *ports)
        embedded = EmbeddedServer(
            "push gateway emulators", lambda: start_push_emulators(self.data_dir, *ports).server
        )
        embedded.server = self.push_emulators.server
        self.embedded.append(embedded)
        return self.push_emulators.env(fcm=fcm, apns=apns, hms=hms, webpush=webpush)

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
            f"  Public site:   {self.api_url}/  (Nakhon Sawan: {self.api_url}/provinces/TH-60)",
            f"  Console:       {self.api_url}/console",
            f"  API:           {self.api_url}/api/v1",
            f"  OpenAPI docs:  {self.api_url}/schema  (Swagger UI: {self.api_url}/schema/swagger)",
            f"  Health:        {self.api_url}/health/ready",
            f"  MongoDB:       {mongodb_uri} ({origin(self.settings.mongodb_uri, 'mongodb')})",
            f"  Redis:         {redis_url} ({origin(self.settings.redis_url, 'redis')})",
            *self._push_lines(),
            *self._metrics_lines(),
            f"  Server logs:   {self.data_dir / 'log'}",
            f"  First admin:   {self.first_admin_command()}",
            "Press Ctrl-C to stop.",
        ]
        print("\n".join(lines), file=sys.stderr, flush=True)

    def first_admin_command(self) -> str:
        """The exact command that makes the first admin of this ``gnews dev``'s database, to
        run in another terminal from the current directory (it prompts for the password)."""
        gnews = Path(sys.executable).with_name("gnews")
        program = "gnews"
        if gnews.exists():
            try:
                program = str(gnews.relative_to(Path.cwd()))
            except ValueError:
                program = str(gnews)
        prefix = ""
        if self.data_dir != Path("var").resolve():
            prefix = f"GNEWS_DATA_DIR={shlex.quote(str(self.data_dir))} "
        return f"{prefix}{shlex.quote(program)} users create --email you@example.org --role admin"

    def _metrics_lines(self) -> list[str]:
        port = self.settings.worker_metrics_port
        worker = f"; worker: http://127.0.0.1:{port}/metrics" if port else ""
        return [f"  Metrics:       {self.api_url}/metrics{worker}"]

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
        if emulators and self._emulated_hms():
            hms = f"{emulators.fcm_url}/hms"
            lines.append(f"  HMS:           {hms} (emulator; {control}/hms/received)")
        else:
            lines.append(f"  HMS:           {self.settings.hms_push_endpoint} (configured)")
        lines.extend(self._webpush_lines())
        return lines

    def _webpush_lines(self) -> list[str]:
        emulators = self.push_emulators
        key = "development VAPID key" if self._emulated_webpush() else "configured VAPID key"
        if emulators is None or emulators.webpush_url is None:
            return [f"  Web Push:      browsers' push services ({key})"]
        url = emulators.webpush_url
        return [
            f"  Web Push:      browsers' push services ({key}); emulator {url} "
            f"(POST {url}/subscriptions; {url}/_emulator/webpush/received)"
        ]

    def _stop_all(self) -> None:
        live = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in live:
            process.terminate()
        for process in live:
            stop_process(process)
        for embedded in reversed(self.embedded):
            if embedded.server is not None:
                embedded.server.stop()
        if live or self.embedded:
            say("stopped")


def run_dev(settings: Settings) -> int:
    """Entry point of ``gnews dev``."""
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    return DevSupervisor(settings).run()

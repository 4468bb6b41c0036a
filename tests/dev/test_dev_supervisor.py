"""`gnews dev` as a supervisor: fixed ports across restarts, embedded servers reaped and started
again when they die, commands pointed at another data dir, the first-admin hint, a quiet log.

Real processes (the supervisor, nx-27017, redis-server, the emulators, the API and the worker);
each test starts `gnews dev` at most twice and stops everything it started."""

from __future__ import annotations

import json
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from gnews.dev.embedded import free_port, runtime_file
from tests.dev.test_dev_process import cli_env, gnews, login, wait_for_text, wait_ready

# Two starts of `gnews dev` on a loaded machine take longer than the default test time-out.
pytestmark = pytest.mark.timeout(300)


def fixed_ports() -> dict[str, int]:
    """Distinct free ports for everything `gnews dev` starts."""
    ports: dict[str, int] = {}
    for name in (
        "HTTP_PORT",
        "DEV_MONGODB_PORT",
        "DEV_REDIS_PORT",
        "DEV_FCM_PORT",
        "DEV_APNS_PORT",
    ):
        port = free_port()
        while port in ports.values():
            port = free_port()
        ports[name] = port
    return ports


def start(data_dir: Path, log: Path, **settings: object) -> subprocess.Popen[bytes]:
    env = cli_env(data_dir)
    env.update({f"GNEWS_{name}": str(value) for name, value in settings.items()})
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "gnews", "dev"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop(dev: subprocess.Popen[bytes]) -> None:
    dev.send_signal(signal.SIGINT)
    assert dev.wait(timeout=60) == 0


def embedded(dev: subprocess.Popen[bytes], marker: str) -> psutil.Process:
    """The supervisor's child whose command line contains ``marker``."""
    for child in psutil.Process(dev.pid).children():
        if any(marker in part for part in child.cmdline()):
            return child
    pytest.fail(f"no child running {marker}")


def test_fixed_ports_survive_a_restart_and_the_log_stays_quiet(dev_dirs):
    data_dir, _, log, _ = dev_dirs
    ports = fixed_ports()
    # The reconciler every second: arq would log two lines a second for it.
    dev = start(data_dir, log, **ports, PUSH_RECONCILE_SECONDS=1)
    try:
        wait_ready(ports["HTTP_PORT"], dev, log)
        wait_for_text(log, "Press Ctrl-C to stop.")
        runtime = json.loads(runtime_file(data_dir).read_text())
        assert runtime["mongodb_uri"] == f"mongodb://127.0.0.1:{ports['DEV_MONGODB_PORT']}"
        assert runtime["redis_url"] == f"redis://127.0.0.1:{ports['DEV_REDIS_PORT']}/0"
        control = f"http://127.0.0.1:{ports['DEV_FCM_PORT']}/_emulator"
        assert f"FCM:           http://127.0.0.1:{ports['DEV_FCM_PORT']} " in log.read_text()
        assert f"APNs:          http://127.0.0.1:{ports['DEV_APNS_PORT']} " in log.read_text()
        assert httpx.get(f"{control}/fcm/received", timeout=5).status_code == 200
        wait_for_text(log, "worker started", timeout=90)
        time.sleep(4)  # four reconciler runs
        assert "cron:reconcile_job:" not in log.read_text()  # arq: "→ cron:reconcile_job:<ts>…"
    finally:
        stop(dev)
    log.write_text("")
    dev = start(data_dir, log, **ports)
    try:
        wait_ready(ports["HTTP_PORT"], dev, log)
        assert json.loads(runtime_file(data_dir).read_text()) == {**runtime, "pid": dev.pid}
        assert httpx.get(f"{control}/fcm/received", timeout=5).status_code == 200
    finally:
        stop(dev)


def test_a_fixed_port_in_use_is_named(dev_dirs):
    data_dir, port, log, _ = dev_dirs
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        dev = start(data_dir, log, HTTP_PORT=port, DEV_REDIS_PORT=taken)
        assert dev.wait(timeout=60) == 1
    assert f"port {taken} (GNEWS_DEV_REDIS_PORT) is in use" in log.read_text()


def test_dead_embedded_servers_are_reaped_and_restarted_and_other_data_dirs_are_named(
    dev_dirs, tmp_path
):
    data_dir, port, log, _ = dev_dirs
    dev = start(data_dir, log, HTTP_PORT=port)
    try:
        wait_ready(port, dev, log)
        wait_for_text(log, "Press Ctrl-C to stop.")

        # The first-admin hint is a command that works as printed (from this directory).
        hint = re.search(r"First admin:\s+(.+)", log.read_text()).group(1)
        words = shlex.split(hint)
        env = cli_env(data_dir.parent / "elsewhere")  # the hint must name the data dir itself
        while "=" in words[0]:
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        made = subprocess.run(
            words, env=env, input="first admin password\n", capture_output=True, text=True
        )
        assert made.returncode == 0, made.stderr
        assert login(port, "you@example.org", "first admin password").status_code == 200

        # A command pointed at another (fresh) data dir names the running one.
        other = cli_env(tmp_path / "other" / "var")
        refused = gnews(
            "users", "create", "--email", "x@example.org", "--role", "admin",
            env=other, stdin="a long password\n",
        )  # fmt: skip
        assert refused.returncode == 1
        assert str(data_dir.resolve()) in refused.stderr and "GNEWS_DATA_DIR" in refused.stderr
        assert not (tmp_path / "other" / "var" / "mongodb").exists()
        for command in (("check",), ("serve",)):
            answered = gnews(*command, env=other)
            assert answered.returncode == 1
            assert str(data_dir.resolve()) in answered.stdout + answered.stderr

        # Kill the embedded MongoDB and Redis: reaped (no zombie), started on the same port.
        for marker, what in (("nx_27017", "embedded MongoDB"), ("redis-server", "embedded Redis")):
            victim = embedded(dev, marker)
            victim.send_signal(signal.SIGKILL)
            wait_for_text(log, f"{what} restarted", timeout=60)
            with pytest.raises(psutil.NoSuchProcess):
                victim.status()  # reaped: not even a zombie
            assert embedded(dev, marker).pid != victim.pid
        assert list((data_dir / "run").glob("mongodb-*.pid"))  # the new server's, not a stale one
        wait_ready(port, dev, log)
        assert login(port, "you@example.org", "first admin password").status_code == 200
    finally:
        stop(dev)

"""`gnews dev` and the CLI as a user runs them: real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from gnews.dev.embedded import free_port, runtime_file
from tests.dev.conftest import new_children

READY_SECONDS = 90


def cli_env(data_dir: Path, port: int | None = None) -> dict[str, str]:
    """The user's environment without configured servers, so embedded ones are used."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNEWS_")}
    env["GNEWS_DATA_DIR"] = str(data_dir)
    # Where `gnews dev` notes that it runs (XDG_RUNTIME_DIR): one per test process, so a `gnews
    # dev` of a test running at the same time in the other process (pytest -n 2) is not
    # "another dev running" (tests of one process run one after the other).
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    env["XDG_RUNTIME_DIR"] = str(Path(tempfile.gettempdir()) / f"gnews-tests-{worker}")
    # The bundled plugins declare real agency feeds; tests never reach them.
    env["GNEWS_DISABLED_PLUGINS"] = "ega,nakhonsawan"
    # Free ports for what has a fixed default, so tests running at once do not collide.
    env["GNEWS_DEV_FCM_PORT"] = env["GNEWS_DEV_APNS_PORT"] = env["GNEWS_WORKER_METRICS_PORT"] = "0"
    if port is not None:
        env["GNEWS_HTTP_PORT"] = str(port)
    return env


def gnews(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gnews", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def start_dev(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "gnews", "dev"],
            env=cli_env(data_dir, port),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gnews dev exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"gnews dev not ready within {READY_SECONDS}s:\n{log.read_text()}")


def wait_for_text(log: Path, text: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} not printed:\n{log.read_text()}")
        time.sleep(0.1)


def tree(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    return psutil.Process(process.pid).children(recursive=True)


def wait_gone(processes: list[psutil.Process], timeout: float = 20) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return alive


def login(port: int, email: str, password: str) -> httpx.Response:
    return httpx.post(
        f"http://127.0.0.1:{port}/api/v1/auth/login",
        json={"email": email, "password": password},
        timeout=10,
    )


@pytest.mark.timeout(300)  # two starts of `gnews dev` and five commands, on a shared machine
def test_dev_lifecycle_commands_shutdown_and_restart(dev_dirs):
    data_dir, port, log, before = dev_dirs
    env = cli_env(data_dir)

    # Before gnews dev runs: the command starts an embedded server for itself, then stops it.
    made = gnews(
        "users",
        "create",
        "--email",
        "first@example.org",
        "--role",
        "admin",
        env=env,
        stdin="first admin password\n",
    )
    assert made.returncode == 0, made.stderr
    assert "created admin first@example.org" in made.stdout
    assert new_children(before) == []
    assert not runtime_file(data_dir).exists()

    dev = start_dev(data_dir, port, log)
    wait_ready(port, dev, log)
    wait_for_text(log, "OpenAPI docs:")
    provinces = httpx.get(f"http://127.0.0.1:{port}/api/v1/provinces", timeout=10).json()
    assert len(provinces) == 77
    assert login(port, "first@example.org", "first admin password").status_code == 200

    second = gnews("dev", env=cli_env(data_dir, free_port()))
    assert second.returncode == 1 and "already running" in second.stderr

    # While gnews dev runs, commands use its servers.
    made = gnews(
        "users",
        "create",
        "--email",
        "ed@example.org",
        "--role",
        "editor",
        env=env,
        stdin="editor password 1\n",
    )
    assert made.returncode == 0, made.stderr
    assert login(port, "ed@example.org", "editor password 1").status_code == 200
    duplicate = gnews(
        "users",
        "create",
        "--email",
        "ED@example.org",
        "--role",
        "editor",
        env=env,
        stdin="editor password 1\n",
    )
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    checked = gnews("check", "--worker", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "worker: ok (push queue" in checked.stdout and f"pid {dev.pid}" in checked.stdout
    assert "worker: ok (feeds queue" in checked.stdout  # gnews dev runs both queues

    children = tree(dev)
    assert len(children) >= 4  # MongoDB, Redis, API, worker
    dev.send_signal(signal.SIGINT)
    assert dev.wait(timeout=30) == 0
    assert wait_gone(children) == []
    assert not runtime_file(data_dir).exists()
    assert list((data_dir / "run").glob("*.pid")) == []

    # Data survives a restart.
    dev = start_dev(data_dir, port, log)
    wait_ready(port, dev, log)
    assert login(port, "ed@example.org", "editor password 1").status_code == 200
    dev.send_signal(signal.SIGTERM)
    assert dev.wait(timeout=30) == 0


def test_killing_the_supervisor_leaves_no_orphans(dev_dirs):
    data_dir, port, log, _ = dev_dirs
    dev = start_dev(data_dir, port, log)
    wait_ready(port, dev, log)
    children = tree(dev)
    dev.kill()
    dev.wait(timeout=10)
    assert wait_gone(children) == []
    # And the next start is not blocked by anything the killed one left behind.
    dev = start_dev(data_dir, port, log)
    wait_ready(port, dev, log)
    dev.send_signal(signal.SIGINT)
    assert dev.wait(timeout=30) == 0


def test_commands_say_what_to_do_when_nothing_is_running(tmp_path):
    env = cli_env(tmp_path / "var")
    served = gnews("serve", env=env)
    assert served.returncode == 1
    assert "GNEWS_MONGODB_URI" in served.stderr and "gnews dev" in served.stderr
    checked = gnews("check", env=env)
    assert checked.returncode == 1 and "nothing to check" in checked.stdout
    refused = gnews(
        "users",
        "create",
        "--email",
        "x@example.org",
        "--role",
        "agency",
        env=env,
        stdin="long enough password\n",
    )
    assert refused.returncode == 1 and "agency" in refused.stderr
    for command in ("dev", "serve", "worker", "plugins", "users", "check"):
        helped = gnews(command, "--help", env=env)
        assert helped.returncode == 0 and "Usage:" in helped.stdout

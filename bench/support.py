"""What the benchmarks share: the gateway emulators in a child process, transports pointed at
them, CPU time of a process, FCM's default quota and the Thai press releases used as text.
Not a benchmark itself; it imports no test module.

The scripts put the repository root on ``sys.path`` and import ``bench.support``.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import psutil

from workers.push.apns import ApnsTransport
from workers.push.fcm import FcmTransport

FCM_QUOTA_PER_SECOND = 600_000 / 60  # FCM's default: 600,000 messages/minute per project
# Real EGA press releases (Thai text), read as data; the tests use the same files.
PRESS_RELEASES = Path(__file__).resolve().parents[1] / "tests/support/fixtures/ega-press"


def cpu_seconds(process: psutil.Process) -> float:
    """CPU time (user + system) a process has used so far."""
    times = process.cpu_times()
    return times.user + times.system


class EmulatorProcess:
    """`gnews emulators` in a child process (development credentials written to ``directory``),
    with the GNEWS_* variables it prints; APNs over TLS, like Apple's, when ``apns_tls``."""

    def __init__(self, directory: Path, *, apns_tls: bool = False) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GNEWS_")}
        tls = ["--apns-tls"] if apns_tls else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gnews", "emulators", "--fcm-port", "0", "--apns-port", "0",
             "--webpush-port", "0", *tls, "--credentials-dir", str(directory)],
            env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.env: dict[str, str] = {}
        self.webpush_url = ""  # the Web Push emulator (its URL is in the subscriptions it mints)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("Web Push:"):
                self.webpush_url = line.split()[2]
            if line.startswith("export "):
                name, value = line.removeprefix("export ").strip().split("=", 1)
                self.env[name] = value
            if "Press Ctrl-C" in line:
                break
        self.control = self.env["GNEWS_FCM_ENDPOINT"] + "/_emulator"
        self.apns_cert = directory / "apns-emulator-cert.pem" if apns_tls else None
        self.ps = psutil.Process(self.process.pid)

    def cpu(self) -> float:
        """CPU seconds the emulators have used so far."""
        return cpu_seconds(self.ps)

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context (h2) trusting the APNs emulator's certificate; None without TLS."""
        if self.apns_cert is None:
            return None
        context = ssl.create_default_context(cafile=str(self.apns_cert))
        context.set_alpn_protocols(["h2"])
        return context

    def fcm_transport(self, **options) -> FcmTransport:
        """Our FCM transport pointed at the emulator (``options`` as FcmTransport takes them)."""
        return FcmTransport(
            self.env["GNEWS_FCM_CREDENTIALS"], endpoint=self.env["GNEWS_FCM_ENDPOINT"], **options
        )

    def apns_transport(self) -> ApnsTransport:
        """Our APNs transport pointed at the emulator (over TLS when it uses TLS)."""
        env = self.env
        return ApnsTransport(
            env["GNEWS_APNS_KEY_FILE"],
            env["GNEWS_APNS_KEY_ID"],
            env["GNEWS_APNS_TEAM_ID"],
            env["GNEWS_APNS_TOPIC"],
            endpoint=env["GNEWS_APNS_ENDPOINT"],
            ssl_context=self.ssl_context(),
        )

    def stop(self) -> None:
        """SIGINT, as a person would."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=15)

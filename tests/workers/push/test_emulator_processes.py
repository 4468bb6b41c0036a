"""`gnews emulators` as a process, and the emulators child that `gnews dev` supervises."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from gnews.config import load_settings
from gnews.dev.embedded import free_port, start_push_emulators
from gnews.dev.supervisor import DevSupervisor
from tests.support.push import apns_token, apns_transport, fcm_transport
from workers.push.apns import ApnsTransport
from workers.push.fcm import FcmTransport

from .conftest import message


def read_until(process: subprocess.Popen[str], marker: str) -> list[str]:
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} never printed: {lines}")


def transports_for(env: dict[str, str]) -> tuple[FcmTransport, ApnsTransport]:
    return fcm_transport(env), apns_transport(env)


async def test_gnews_emulators_starts_answers_and_stops_on_sigint(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNEWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "gnews", "emulators", "--fcm-port", "0", "--apns-port", "0",
         "--credentials-dir", str(tmp_path / "creds"), "--unregistered-prefix", "dead"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lines = read_until(process, "Press Ctrl-C")
        exported = dict(
            line.removeprefix("export ").split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        assert Path(exported["GNEWS_FCM_CREDENTIALS"]).is_file()
        fcm, apns = transports_for(exported)
        try:
            fcm_outcomes = await fcm.send(message(), ["token-a", "dead-token"])
            [apns_outcome] = await apns.send(message(), [apns_token(3)])
        finally:
            await fcm.aclose()
            await apns.aclose()
        assert [o.status for o in fcm_outcomes] == ["sent", "invalid_token"]
        assert apns_outcome.status == "sent"

        control = f"{exported['GNEWS_FCM_ENDPOINT']}/_emulator"
        async with httpx.AsyncClient(base_url=control) as http:
            received = (await http.get("/fcm/received")).json()
            assert received["counts"]["accepted"] == 1
            assert received["messages"][0]["token"] == "token-a"
            apns_received = (await http.get("/apns/received", params={"limit": 5})).json()
            assert apns_received["messages"][0]["token"] == apns_token(3)
            changed = await http.post("/apns/faults", json={"rate_503": 0.5, "latency": 0.01})
            assert changed.status_code == 200 and changed.json()["rate_503"] == 0.5
            refused = await http.post("/apns/faults", json={"rate_503": 3})
            assert refused.status_code == 400
            assert (await http.post("/fcm/reset")).status_code == 200
            assert (await http.get("/fcm/received")).json()["counts"] == {}
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0


async def test_the_dev_supervisors_emulators_child(tmp_path: Path):
    emulators = start_push_emulators(tmp_path / "var")
    try:
        env = emulators.env()
        assert env["GNEWS_FCM_ENDPOINT"] == emulators.fcm_url
        fcm, apns = transports_for(env)
        try:
            [sent] = await fcm.send(message(), ["token-a"])
            [delivered] = await apns.send(message(), [apns_token(1)])
        finally:
            await fcm.aclose()
            await apns.aclose()
        assert (sent.status, delivered.status) == ("sent", "sent")
        assert env["GNEWS_HMS_PUSH_ENDPOINT"] == f"{emulators.fcm_url}/hms"
        assert emulators.env(fcm=False, hms=False).keys() == {
            "GNEWS_APNS_ENDPOINT", "GNEWS_APNS_KEY_FILE", "GNEWS_APNS_KEY_ID",
            "GNEWS_APNS_TEAM_ID", "GNEWS_APNS_TOPIC",
        }  # fmt: skip
    finally:
        emulators.server.stop()
    assert emulators.server.process.returncode == 0


def test_gnews_dev_emulates_only_gateways_that_are_not_configured(tmp_path: Path):
    def emulated(**configured) -> tuple[bool, bool]:
        settings = load_settings(data_dir=tmp_path, http_port=free_port(), **configured)
        return DevSupervisor(settings)._emulated_gateways()

    assert emulated() == (True, True)
    assert emulated(fcm_credentials=tmp_path / "real.json") == (False, True)
    assert emulated(apns_endpoint="https://api.sandbox.push.apple.com") == (True, False)

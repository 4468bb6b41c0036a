"""The push emulators together (FCM, APNs, HMS inside the FCM emulator's port, a Web Push
service), with the development credentials: what ``gnews emulators`` and ``gnews dev`` run, and
what tests and benchmarks start in-process."""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from gnews.dev.emulators.apns import ApnsEmulator
from gnews.dev.emulators.control import add_control_routes
from gnews.dev.emulators.credentials import DevCredentials, dev_credentials
from gnews.dev.emulators.faults import Faults
from gnews.dev.emulators.fcm import FcmEmulator
from gnews.dev.emulators.hms import MOUNT as HMS_MOUNT
from gnews.dev.emulators.hms import HmsEmulator
from gnews.dev.emulators.webpush import WebPushEmulator

APNS_CERT_FILE = "apns-emulator-cert.pem"


@dataclass
class PushEmulators:
    """The running emulators and the credentials that work with them."""

    fcm: FcmEmulator
    apns: ApnsEmulator
    credentials: DevCredentials
    hms: HmsEmulator
    webpush: WebPushEmulator | None = None  # subscriptions carry its URL; no GNEWS_* for it

    def env(self) -> dict[str, str]:
        """The GNEWS_* variables pointing the transports at these emulators."""
        return {**self.credentials.env(self.fcm.url, self.apns.url), **self.hms.env()}

    def webpush_env(self) -> dict[str, str]:
        """The GNEWS_WEBPUSH_* variables of the development VAPID key (the Web Push emulator
        needs none: its URL is in the subscriptions it mints)."""
        return self.credentials.webpush_env()

    async def stop(self) -> None:
        """Stop them all."""
        if self.webpush is not None:
            await self.webpush.stop()
        await self.apns.stop()
        await self.fcm.stop()


async def start_emulators(
    credentials_dir: Path,
    *,
    host: str = "127.0.0.1",
    fcm_port: int = 0,
    apns_port: int = 0,
    apns_tls: bool = False,
    faults: Faults | None = None,
    webpush_port: int = 0,
) -> PushEmulators:
    """Start the emulators (free ports when 0) and write/reuse credentials in ``credentials_dir``.

    HMS is served by the FCM emulator's port under ``/hms``. The credentials are written before
    the APNs port listens, so a supervisor that waits for both ports finds the files.
    ``faults`` is copied to each emulator.
    """
    credentials_dir = credentials_dir.resolve()
    fcm = FcmEmulator(host=host, port=fcm_port, faults=_copy(faults))
    apns = ApnsEmulator(host=host, port=apns_port, tls=apns_tls, faults=_copy(faults))
    hms = HmsEmulator(faults=_copy(faults))
    add_control_routes(fcm.app, apns.name, apns)  # one HTTP control API for all
    hms.mount(fcm.app)
    webpush = WebPushEmulator(host=host, port=webpush_port, faults=_copy(faults))
    add_control_routes(fcm.app, webpush.name, webpush)
    await fcm.start()
    hms.base_url = f"{fcm.url}{HMS_MOUNT}"
    credentials = dev_credentials(credentials_dir, fcm.token_uri)
    fcm.trust(credentials.client_email, credentials.service_account_public_key())
    apns.topic = credentials.apns_topic
    apns.trust(credentials.apns_key_id, credentials.apns_team_id, credentials.apns_public_key())
    if apns.certificate_pem is not None:  # for clients to trust (TLS mode)
        (credentials_dir / APNS_CERT_FILE).write_bytes(apns.certificate_pem)
    try:
        await webpush.start()
        await apns.start()
    except BaseException:
        await webpush.stop()
        await fcm.stop()
        raise
    return PushEmulators(fcm, apns, credentials, hms, webpush)


def _copy(faults: Faults | None) -> Faults:
    if faults is None:
        return Faults()
    copy = Faults()
    copy.update(faults.as_json())
    return copy


def run_emulators(credentials_dir: Path, **options: object) -> None:
    """Run the emulators until SIGINT/SIGTERM, printing how to point the transports at them."""

    async def main() -> None:
        emulators = await start_emulators(credentials_dir, **options)  # type: ignore[arg-type]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        control = f"{emulators.fcm.url}/_emulator"
        print(f"FCM emulator:  {emulators.fcm.url}  (HTTP/1.1, OAuth2 token endpoint /token)")
        print(f"APNs emulator: {emulators.apns.url}  (HTTP/2)")
        print(f"HMS emulator:  {emulators.hms.url}  (Push Kit v1, OAuth2 token endpoint)")
        if emulators.apns.tls:
            print(f"APNs certificate (self-signed): {credentials_dir / APNS_CERT_FILE}")
        if emulators.webpush is not None:
            push = emulators.webpush.url
            print(f"Web Push:      {push}  (subscribe: POST {push}/subscriptions)")
        print(
            f"Received:      {control}/fcm/received  {control}/apns/received  "
            f"{control}/hms/received"
        )
        print(f"               {control}/webpush/received")
        print("Point the transports at them with:")
        for name, value in (emulators.env() | emulators.webpush_env()).items():
            print(f"export {name}={value}")
        print("Press Ctrl-C to stop.", flush=True)
        try:
            await stop.wait()
        finally:
            await emulators.stop()
        print("emulators stopped", file=sys.stderr, flush=True)

    asyncio.run(main())

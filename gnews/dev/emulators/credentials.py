"""Development credentials for the emulators: a Google service-account file whose ``token_uri``
is the FCM emulator's token endpoint, an APNs signing key (.p8) with its key and team ids, and a
Web Push VAPID key (PEM).

They are generated once under a directory (``<data dir>/emulators``) and reused, so the files a
worker read stay valid across restarts; only ``token_uri`` is rewritten to the current port.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

DEV_PROJECT_ID = "gnews-dev"
DEV_CLIENT_EMAIL = f"gnews-dev@{DEV_PROJECT_ID}.iam.gserviceaccount.com"
DEV_APNS_KEY_ID = "GNEWSDEV01"
DEV_APNS_TEAM_ID = "GNEWSTEAM1"
DEV_APNS_TOPIC = "th.go.gnews.dev"
SERVICE_ACCOUNT_FILE = "fcm-service-account.json"
SERVICE_ACCOUNT_KEY_FILE = "fcm-service-account.pem"
APNS_KEY_FILE = f"AuthKey_{DEV_APNS_KEY_ID}.p8"
VAPID_KEY_FILE = "webpush-vapid.pem"  # the Web Push application server key (P-256)
DEV_VAPID_SUBJECT = "mailto:webpush-dev@localhost"


@dataclass(frozen=True, slots=True)
class DevCredentials:
    """Paths and identifiers of the generated development credentials."""

    service_account_file: Path
    apns_key_file: Path
    project_id: str = DEV_PROJECT_ID
    client_email: str = DEV_CLIENT_EMAIL
    apns_key_id: str = DEV_APNS_KEY_ID
    apns_team_id: str = DEV_APNS_TEAM_ID
    apns_topic: str = DEV_APNS_TOPIC
    vapid_key_file: Path | None = None
    vapid_subject: str = DEV_VAPID_SUBJECT

    def service_account_public_key(self) -> bytes:
        """PEM public key of the service account (the FCM emulator checks JWTs with it)."""
        info = json.loads(self.service_account_file.read_text())
        key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
        return key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def apns_public_key(self) -> bytes:
        """PEM public key of the APNs signing key (the APNs emulator checks JWTs with it)."""
        key = serialization.load_pem_private_key(self.apns_key_file.read_bytes(), password=None)
        return key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def env(self, fcm_url: str | None, apns_url: str | None) -> dict[str, str]:
        """The GNEWS_* variables pointing the transports at emulators at these URLs."""
        env = {}
        if fcm_url:
            env["GNEWS_FCM_ENDPOINT"] = fcm_url
            env["GNEWS_FCM_CREDENTIALS"] = str(self.service_account_file)
        if apns_url:
            env["GNEWS_APNS_ENDPOINT"] = apns_url
            env["GNEWS_APNS_KEY_FILE"] = str(self.apns_key_file)
            env["GNEWS_APNS_KEY_ID"] = self.apns_key_id
            env["GNEWS_APNS_TEAM_ID"] = self.apns_team_id
            env["GNEWS_APNS_TOPIC"] = self.apns_topic
        return env

    def webpush_env(self) -> dict[str, str]:
        """The GNEWS_WEBPUSH_* variables of the development VAPID key (any push service, the
        emulator's or a browser vendor's, accepts pushes signed with it)."""
        if self.vapid_key_file is None:
            return {}
        return {
            "GNEWS_WEBPUSH_VAPID_KEY_FILE": str(self.vapid_key_file),
            "GNEWS_WEBPUSH_VAPID_SUBJECT": self.vapid_subject,
        }


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.replace(path)


def _pkcs8(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def dev_credentials(directory: Path, token_uri: str) -> DevCredentials:
    """Create (or reuse) the development credentials under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    rsa_file = directory / SERVICE_ACCOUNT_KEY_FILE
    if not rsa_file.exists():
        _write_private(rsa_file, _pkcs8(rsa.generate_private_key(65537, 2048)))
    apns_file = directory / APNS_KEY_FILE
    if not apns_file.exists():
        _write_private(apns_file, _pkcs8(ec.generate_private_key(ec.SECP256R1())))
    account_file = directory / SERVICE_ACCOUNT_FILE
    key_id = secrets.token_hex(20)
    if account_file.exists():
        key_id = json.loads(account_file.read_text()).get("private_key_id", key_id)
    info = {
        "type": "service_account",
        "project_id": DEV_PROJECT_ID,
        "private_key_id": key_id,
        "private_key": rsa_file.read_text(),
        "client_email": DEV_CLIENT_EMAIL,
        "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "universe_domain": "googleapis.com",
    }
    _write_private(account_file, json.dumps(info, indent=2).encode())
    return DevCredentials(account_file, apns_file, vapid_key_file=dev_vapid_key(directory))


def dev_vapid_key(directory: Path) -> Path:
    """Create (or reuse) the development VAPID key (PEM, P-256) under ``directory``: browsers
    subscribe with its public half, so it must stay the same across restarts."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / VAPID_KEY_FILE
    if not path.exists():
        _write_private(path, _pkcs8(ec.generate_private_key(ec.SECP256R1())))
    return path

"""An APNs emulator: HTTP/2 (``h2`` over asyncio), cleartext with prior knowledge or TLS with a
generated self-signed certificate and ALPN ``h2``, answering ``POST /3/device/<token>`` as Apple
does: 200 with ``apns-id``, or the status and ``{"reason": …}`` body of each error.

It checks the provider token (``authorization: bearer <ES256 JWT>``, signed by a key it was told
to trust, not older than an hour), the ``apns-*`` headers and the device token (hex, at least 64
digits), records accepted notifications and injects failures (:class:`Faults`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import json
import re
import ssl
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gnews.dev.emulators.faults import Faults, Recorder
from gnews.dev.emulators.server import Emulator

DEVICE_TOKEN = re.compile(r"^(?:[0-9a-fA-F]{2}){32,100}$")
PUSH_TYPES = {
    "alert", "background", "location", "voip", "complication", "fileprovider", "mdm",
    "liveactivity", "pushtotalk", "widgets", "controls",
}  # fmt: skip
MAX_PAYLOAD_BYTES = 4096
PROVIDER_TOKEN_MAX_AGE = 3600
MAX_CONCURRENT_STREAMS = 1000
INJECTED_REASONS = {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}


class ApnsError(Exception):
    """An APNs error answer: HTTP status and reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def self_signed_certificate(host: str = "127.0.0.1") -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM) for ``host``, ``localhost`` and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gnews APNs emulator")])
    now = datetime.datetime.now(datetime.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for candidate in {host, "127.0.0.1"}:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(candidate)))
        except ValueError:
            alt_names.append(x509.DNSName(candidate))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


class _ServerProtocol(asyncio.Protocol):
    """One client connection."""

    def __init__(self, emulator: ApnsEmulator) -> None:
        self.emulator = emulator
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=config)
        self.transport: asyncio.Transport | None = None
        self.requests: dict[int, tuple[dict[str, str], bytearray]] = {}
        self.pending: dict[int, bytes] = {}  # response bodies waiting for flow-control window

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.emulator.connections.add(self)
        self.conn.initiate_connection()
        self.conn.update_settings(
            {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: MAX_CONCURRENT_STREAMS}
        )
        self.conn.increment_flow_control_window(1 << 24)
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.emulator.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.flush()
            if self.transport is not None:
                self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                headers = {k.decode(): v.decode() for k, v in event.headers}
                self.requests[event.stream_id] = (headers, bytearray())
            elif isinstance(event, h2.events.DataReceived):
                if event.stream_id in self.requests:
                    self.requests[event.stream_id][1].extend(event.data)
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                request = self.requests.pop(event.stream_id, None)
                if request is not None:
                    headers, body = request
                    self.emulator.handle(self, event.stream_id, headers, bytes(body))
            elif isinstance(event, h2.events.StreamReset):
                self.requests.pop(event.stream_id, None)
                self.pending.pop(event.stream_id, None)
            elif isinstance(event, h2.events.WindowUpdated):
                self._send_pending()
        self.flush()

    def respond(self, stream_id: int, status: int, headers: dict[str, str], body: bytes) -> None:
        """Answer a stream (body sent when the flow-control window allows)."""
        if self.transport is None or self.transport.is_closing():
            return
        response = [(b":status", str(status).encode())]
        response += [(k.encode(), v.encode()) for k, v in headers.items()]
        try:
            self.conn.send_headers(stream_id, response, end_stream=not body)
            if body:
                self.pending[stream_id] = body
                self._send_pending()
        except h2.exceptions.StreamClosedError:
            return
        self.flush()

    def _send_pending(self) -> None:
        for stream_id, body in list(self.pending.items()):
            try:
                if self.conn.local_flow_control_window(stream_id) < len(body):
                    continue
                self.conn.send_data(stream_id, body, end_stream=True)
            except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                pass
            del self.pending[stream_id]

    def flush(self) -> None:
        """Write what h2 has queued."""
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        """GOAWAY, then close."""
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self.conn.close_connection()
            self.flush()
        if self.transport is not None:
            self.transport.close()


class ApnsEmulator(Emulator):
    """The emulator; ``async with ApnsEmulator(...) as apns:`` or :meth:`start` / :meth:`stop`."""

    name = "apns"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        topic: str | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.host, self.port, self.tls, self.topic = host, port, tls, topic
        self.faults = faults or Faults()
        self.recorder = Recorder()
        self.connections: set[_ServerProtocol] = set()
        self._keys: dict[str, tuple[str, bytes]] = {}  # key id -> (team id, PEM public key)
        self._verified: dict[str, float] = {}  # provider token -> its iat
        self._not_before = 0
        self._revoked: set[str] = set()
        self._server: asyncio.Server | None = None
        self.certificate_pem: bytes | None = None
        self._key_pem = b""
        if tls:
            self.certificate_pem, self._key_pem = self_signed_certificate(host)

    @property
    def url(self) -> str:
        """Base URL (``GNEWS_APNS_ENDPOINT``)."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def trust(self, key_id: str, team_id: str, public_key_pem: bytes) -> None:
        """Accept provider tokens signed by this key for this team (with none, any well-formed
        ES256 token is accepted)."""
        self._keys[key_id] = (team_id, public_key_pem)

    def expire_credentials(self) -> None:
        """Refuse provider tokens issued until now (403 ExpiredProviderToken)."""
        self._revoked |= set(self._verified)  # tokens seen so far, even if signed this second
        self._not_before = int(time.time())
        self._verified.clear()

    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this emulator's certificate (TLS mode)."""
        if self.certificate_pem is None:
            raise RuntimeError("the emulator is not running with TLS")
        context = ssl.create_default_context(cadata=self.certificate_pem.decode())
        context.set_alpn_protocols(["h2"])
        return context

    async def start(self) -> ApnsEmulator:
        """Listen (on a free port when ``port`` is 0)."""
        context = None
        if self.certificate_pem is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            with tempfile.TemporaryDirectory() as directory:
                cert_file, key_file = Path(directory, "cert.pem"), Path(directory, "key.pem")
                cert_file.write_bytes(self.certificate_pem)
                key_file.write_bytes(self._key_pem)
                context.load_cert_chain(cert_file, key_file)
            context.set_alpn_protocols(["h2"])
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _ServerProtocol(self),
            self.host,
            self.port,
            ssl=context,
            backlog=1024,
            reuse_address=True,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and close connections (with GOAWAY)."""
        if self._server is not None:
            self._server.close()
            for connection in list(self.connections):
                connection.close()
            await self._server.wait_closed()
            self._server = None

    # --- requests ---------------------------------------------------------------------------
    def handle(
        self, connection: _ServerProtocol, stream_id: int, headers: dict[str, str], body: bytes
    ) -> None:
        """Answer one request (after the injected latency, if any)."""
        if self.faults.latency:
            asyncio.get_running_loop().call_later(
                self.faults.latency, self._answer, connection, stream_id, headers, body
            )
        else:
            self._answer(connection, stream_id, headers, body)

    def _answer(
        self, connection: _ServerProtocol, stream_id: int, headers: dict[str, str], body: bytes
    ) -> None:
        self.recorder.request()
        apns_id = headers.get("apns-id") or str(uuid.uuid4()).upper()
        extra: dict[str, str] = {}
        try:
            token, payload = self._check(headers, body)
            status = self.faults.injected_status()
            if status is not None:
                extra["retry-after"] = str(self.faults.retry_after)
                raise ApnsError(status, INJECTED_REASONS[status])
            if not DEVICE_TOKEN.match(token):
                raise ApnsError(400, "BadDeviceToken")
            if self.faults.is_unregistered(token):
                raise ApnsError(410, "Unregistered")
        except ApnsError as error:
            self.recorder.refuse(error.reason)
            answer: dict[str, Any] = {"reason": error.reason}
            if error.status == 410:
                answer["timestamp"] = int(time.time() * 1000)
            connection.respond(
                stream_id,
                error.status,
                {"apns-id": apns_id, "content-type": "application/json", **extra},
                json.dumps(answer).encode(),
            )
            return
        kept = {k: v for k, v in headers.items() if k.startswith("apns-")}
        self.recorder.accept(token, payload, kept)
        connection.respond(stream_id, 200, {"apns-id": apns_id}, b"")

    def _check(self, headers: dict[str, str], body: bytes) -> tuple[str, dict[str, Any]]:
        path = headers.get(":path", "")
        if not path.startswith("/3/device/"):
            raise ApnsError(404, "BadPath")
        if headers.get(":method") != "POST":
            raise ApnsError(405, "MethodNotAllowed")
        token = path.removeprefix("/3/device/")
        if not token:
            raise ApnsError(400, "MissingDeviceToken")
        self._check_provider_token(headers.get("authorization", ""))
        topic = headers.get("apns-topic")
        if not topic:
            raise ApnsError(400, "MissingTopic")
        if self.topic and topic != self.topic:
            raise ApnsError(400, "TopicDisallowed")
        push_type = headers.get("apns-push-type", "alert")
        if push_type not in PUSH_TYPES:
            raise ApnsError(400, "InvalidPushType")
        if headers.get("apns-priority", "10") not in ("1", "5", "10"):
            raise ApnsError(400, "BadPriority")
        if not headers.get("apns-expiration", "0").isdigit():
            raise ApnsError(400, "BadExpirationDate")
        if len(headers.get("apns-collapse-id", "").encode()) > 64:
            raise ApnsError(400, "BadCollapseId")
        if "apns-id" in headers:
            try:
                uuid.UUID(headers["apns-id"])
            except ValueError:
                raise ApnsError(400, "BadMessageId") from None
        if not body:
            raise ApnsError(400, "PayloadEmpty")
        if len(body) > MAX_PAYLOAD_BYTES:
            raise ApnsError(413, "PayloadTooLarge")
        try:
            payload = json.loads(body)
        except ValueError:
            raise ApnsError(400, "BadPayload") from None  # Apple gives no reason for this
        if not isinstance(payload, dict) or not isinstance(payload.get("aps"), dict):
            raise ApnsError(400, "BadPayload")
        return token, payload

    def _check_provider_token(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApnsError(403, "MissingProviderToken")
        issued_at = self._verified.get(token)
        if issued_at is None:  # verify a token once, as APNs does per connection
            try:
                header = jwt.get_unverified_header(token)
                if header.get("alg") != "ES256":
                    raise ApnsError(403, "InvalidProviderToken")
                if self._keys:
                    team_id, key = self._keys.get(header.get("kid", ""), ("", b""))
                    if not key:
                        raise ApnsError(403, "InvalidProviderToken")
                    claims = jwt.decode(
                        token, key, algorithms=["ES256"], options={"verify_iat": False}
                    )
                    if claims.get("iss") != team_id:
                        raise ApnsError(403, "InvalidProviderToken")
                else:
                    claims = jwt.decode(token, options={"verify_signature": False})
                issued_at = float(claims["iat"])
            except (jwt.PyJWTError, KeyError, TypeError, ValueError):
                raise ApnsError(403, "InvalidProviderToken") from None
            self._verified[token] = issued_at
        if (
            issued_at < self._not_before
            or token in self._revoked
            or time.time() - issued_at > PROVIDER_TOKEN_MAX_AGE
        ):
            raise ApnsError(403, "ExpiredProviderToken")

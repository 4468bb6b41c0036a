"""The APNs transport (HTTP/2 client on h2) against the APNs emulator: cleartext and TLS."""

from __future__ import annotations

import asyncio
import time

from gnews.dev.emulators.apns import ApnsEmulator
from gnews.notifications.message import apns_payload
from tests.support.push import apns_token, apns_transport
from workers.push.apns import ApnsTransport

from .conftest import message


async def test_sends_with_the_notification_id_as_apns_collapse_id(emulators, apns):
    note = message(image_url="https://www.prd.go.th/news.jpg")
    before = int(time.time())
    outcomes = await apns.send(note, [apns_token(1), apns_token(2)])
    assert [(o.status, o.attempts) for o in outcomes] == [("sent", 1), ("sent", 1)]
    [received] = emulators.apns.recorder.for_token(apns_token(2))
    headers = received.headers
    assert headers["apns-collapse-id"] == note.notification_id
    assert headers["apns-topic"] == emulators.credentials.apns_topic
    assert (headers["apns-push-type"], headers["apns-priority"]) == ("alert", "10")
    assert before + 3600 <= int(headers["apns-expiration"]) <= int(time.time()) + 3600
    assert received.payload == {
        "aps": {
            "alert": {"title": note.title, "body": note.body},
            "sound": "default",
            "mutable-content": 1,
        },
        "news_id": "n-42",
        "notification_id": note.notification_id,
        "image_url": "https://www.prd.go.th/news.jpg",
        "deep_link": "gnews://news/n-42",
    }


async def test_normal_priority_and_no_ttl(emulators, apns):
    await apns.send(message(priority="normal", ttl_seconds=0), [apns_token(1)])
    [received] = emulators.apns.recorder.for_token(apns_token(1))
    assert (received.headers["apns-priority"], received.headers["apns-expiration"]) == ("5", "0")


def test_payload_keeps_thai_text_readable():
    assert "ประกาศ".encode() in apns_payload(message(title="ประกาศ"))


async def test_over_tls_with_alpn(push_credentials_dir):
    from gnews.dev.emulators.suite import start_emulators

    emulators = await start_emulators(push_credentials_dir, apns_tls=True)
    transport = apns_transport(emulators.env(), ssl_context=emulators.apns.client_ssl_context())
    try:
        assert emulators.apns.url.startswith("https://")
        [outcome] = await transport.send(message(), [apns_token(7)])
    finally:
        await transport.aclose()
        await emulators.stop()
    assert outcome.status == "sent"


async def test_unregistered_and_bad_tokens_are_reported_per_token(emulators, apns):
    emulators.apns.faults.update({"unregistered": [apns_token(2)]})
    outcomes = await apns.send(message(), [apns_token(1), apns_token(2), "abc123", "not/hex"])
    assert [(o.status, o.reason) for o in outcomes] == [
        ("sent", None),
        ("invalid_token", "Unregistered"),
        ("invalid_token", "BadDeviceToken"),
        ("invalid_token", "BadDeviceToken"),
    ]


async def test_429_and_503_are_retried_honouring_retry_after(emulators, apns):
    emulators.apns.faults.update({"fail_next": [429], "retry_after": 1})
    [outcome] = await apns.send(message(), [apns_token(1)])
    assert (outcome.status, outcome.attempts) == ("sent", 2)
    first, second = emulators.apns.recorder.request_times
    assert second - first >= 1.0
    emulators.apns.faults.update({"fail_next": [503, 500], "retry_after": 0})
    [outcome] = await apns.send(message(), [apns_token(2)])
    assert (outcome.status, outcome.attempts) == ("sent", 3)


async def test_attempts_are_capped_then_the_token_counts_as_failed(emulators, apns):
    emulators.apns.faults.update({"fail_next": [503, 503, 503]})
    [outcome] = await apns.send(message(), [apns_token(1)])
    assert (outcome.status, outcome.attempts, outcome.reason) == ("failed", 3, "ServiceUnavailable")


async def test_an_expired_provider_token_is_renewed(emulators, apns):
    await apns.send(message(), [apns_token(1)])
    assert apns.provider_token.renewals == 1
    emulators.apns.expire_credentials()
    outcomes = await apns.send(message(), [apns_token(n) for n in range(20)])
    assert {o.status for o in outcomes} == {"sent"}
    assert apns.provider_token.renewals == 2  # once for all 20
    assert emulators.apns.recorder.counts["ExpiredProviderToken"] >= 1


async def test_a_foreign_key_is_refused(emulators, tmp_path):
    from gnews.dev.emulators.credentials import dev_credentials

    other = dev_credentials(tmp_path, "http://unused/token")
    transport = ApnsTransport(
        other.apns_key_file, "OTHERKEY01", "OTHERTEAM1", other.apns_topic,
        endpoint=emulators.apns.url,
    )  # fmt: skip
    try:
        [outcome] = await transport.send(message(), [apns_token(1)])
    finally:
        await transport.aclose()
    assert (outcome.status, outcome.reason) == ("failed", "InvalidProviderToken")


async def test_latency_and_time_outs(emulators):
    emulators.apns.faults.update({"latency": 0.05})
    patient = apns_transport(emulators.env(), timeout=2)
    impatient = apns_transport(emulators.env(), timeout=0.01)
    try:
        [ok] = await patient.send(message(), [apns_token(1)])
        [late] = await impatient.send(message(), [apns_token(2)])
    finally:
        await patient.aclose()
        await impatient.aclose()
    assert ok.status == "sent"
    assert (late.status, late.attempts) == ("failed", 3)
    assert "no response" in late.reason


async def test_thousands_of_error_answers_do_not_stall_the_connection(emulators, apns):
    # Error answers have bodies: without flow-control acknowledgements the server's window
    # runs out after ~2,300 of them on a connection (aioapns then hangs).
    tokens = [f"{n:x}" for n in range(500)]  # not 64 hex digits: BadDeviceToken
    batches = await asyncio.gather(*(apns.send(message(), tokens) for _ in range(6)))
    outcomes = [o for batch in batches for o in batch]
    assert len(outcomes) == 3000
    assert {o.status for o in outcomes} == {"invalid_token"}


async def test_reconnects_after_the_server_went_away(emulators, apns):
    [first] = await apns.send(message(), [apns_token(1)])
    port = emulators.apns.port
    await emulators.apns.stop()  # GOAWAY and close
    emulators.apns = ApnsEmulator(port=port, topic=emulators.credentials.apns_topic)
    await emulators.apns.start()
    [second] = await apns.send(message(), [apns_token(2)])
    assert (first.status, second.status) == ("sent", "sent")
    assert emulators.apns.recorder.for_token(apns_token(2))

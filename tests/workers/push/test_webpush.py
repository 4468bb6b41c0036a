"""The Web Push transport (pywebpush + py-vapid over aiohttp) against the Web Push service
emulator, which checks the VAPID JWT and decrypts every payload with the subscription's keys;
the emulator's own refusals; the subscription (push token) rules."""

from __future__ import annotations

import base64
import itertools
import json
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid02

from gnews.config import load_settings
from gnews.dev.emulators.webpush import MAX_PAYLOAD_BYTES as SERVICE_LIMIT
from gnews.dev.emulators.webpush import WebPushEmulator
from gnews.plugins import build_plugin_manager
from tests.support.push import web_subscription, webpush_transport
from workers.push import close_transports, load_transports
from workers.push.webpush import (
    MAX_PAYLOAD_BYTES,
    WEB,
    WebPushTransport,
    canonical_subscription,
    classify,
    subscription_error,
    webpush_payload,
)

from .conftest import message


@pytest.fixture
async def webpush(emulators) -> WebPushTransport:
    """The Web Push transport with the development VAPID key, fast retries."""
    transport = webpush_transport(emulators.webpush_env())
    yield transport
    await transport.aclose()


def endpoint_of(token: str) -> str:
    return json.loads(token)["endpoint"]


async def test_delivers_and_the_service_decrypts_the_thai_text(emulators, webpush):
    env = emulators.webpush_env()
    tokens = [web_subscription(emulators.webpush, env) for _ in range(3)]
    note = message(data={"news_item_id": "n-42", "url": "https://gnews.example.go.th/news/n-42"})
    outcomes = await webpush.send(note, tokens)
    assert [(o.status, o.attempts) for o in outcomes] == [("sent", 1)] * 3
    for token in tokens:
        [received] = emulators.webpush.recorder.for_token(endpoint_of(token))
        assert received.payload == {
            "notification_id": note.notification_id,
            "title": "ประกาศจังหวัดนครสวรรค์",
            "body": "น้ำท่วมถนนสายหลัก โปรดหลีกเลี่ยง",
            "lang": "th",
            "url": "https://gnews.example.go.th/news/n-42",
            "deep_link": "gnews://news/n-42",
            "data": {"news_item_id": "n-42"},
        }
        assert received.headers == {
            "ttl": "3600",
            "urgency": "high",
            "topic": note.notification_id[:32],
            "content-encoding": "aes128gcm",
        }
    # One VAPID JWT for the one push service, not one per message.
    assert webpush.vapid.renewals == 1


async def test_unsubscribed_and_unknown_subscriptions_are_invalid_tokens(emulators, webpush):
    env = emulators.webpush_env()
    gone, alive, unknown = (web_subscription(emulators.webpush, env) for _ in range(3))
    emulators.webpush.unsubscribe(endpoint_of(gone))
    subscription = json.loads(unknown)
    subscription["endpoint"] = f"{emulators.webpush.url}/push/never-issued"
    unknown = json.dumps(subscription)
    outcomes = await webpush.send(message(), [gone, alive, unknown])
    assert [(o.status, o.reason) for o in outcomes] == [
        ("invalid_token", "Gone"),
        ("sent", None),
        ("invalid_token", "NotFound"),
    ]


async def test_429_and_503_are_retried_after_retry_after_then_delivered(emulators, webpush):
    token = web_subscription(emulators.webpush, emulators.webpush_env())
    emulators.webpush.faults.update({"fail_next": [429, 503], "retry_after": 1})
    [outcome] = await webpush.send(message(), [token])
    assert (outcome.status, outcome.attempts) == ("sent", 3)
    times = list(emulators.webpush.recorder.request_times)
    assert len(times) == 3
    assert all(later - earlier >= 0.95 for earlier, later in itertools.pairwise(times))
    assert len(emulators.webpush.recorder.for_token(endpoint_of(token))) == 1


async def test_a_long_retry_after_ends_the_attempts_for_the_batch_to_be_deferred(
    emulators, webpush
):
    token = web_subscription(emulators.webpush, emulators.webpush_env())
    emulators.webpush.faults.update({"fail_next": [503], "retry_after": 120})
    [outcome] = await webpush.send(message(), [token])
    assert (outcome.status, outcome.retry_after, outcome.attempts) == ("failed", 120, 1)


async def test_an_oversize_message_is_refused_without_a_request(emulators, webpush):
    token = web_subscription(emulators.webpush, emulators.webpush_env())
    empty = len(webpush_payload(message(body="")))
    # Exactly at the limit (Thai is 3 bytes a character in UTF-8): delivered, and the
    # encrypted body fits the 4096 bytes a push service must accept.
    thai, ascii_rest = divmod(MAX_PAYLOAD_BYTES - empty, 3)
    at_limit = message(body="ก" * thai + "a" * ascii_rest)
    assert len(webpush_payload(at_limit)) == MAX_PAYLOAD_BYTES
    [outcome] = await webpush.send(at_limit, [token])
    assert outcome.status == "sent"
    # One byte over: refused for every token, and nothing is sent.
    over = message(body="ก" * thai + "a" * (ascii_rest + 1))
    requests = emulators.webpush.recorder.counts["requests"]
    outcomes = await webpush.send(over, [token, token])
    assert [(o.status, o.attempts) for o in outcomes] == [("failed", 0)] * 2
    assert outcomes[0].reason == f"PayloadTooLarge: {MAX_PAYLOAD_BYTES + 1} bytes > 3993"
    assert emulators.webpush.recorder.counts["requests"] == requests


async def test_a_subscription_made_for_another_vapid_key_fails_without_deactivation(
    emulators, webpush
):
    other = ec.generate_private_key(ec.SECP256R1())
    raw = other.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    token = json.dumps(emulators.webpush.subscribe(raw))
    [outcome] = await webpush.send(message(), [token])
    assert outcome.status == "failed"
    assert outcome.reason.startswith("Forbidden")


async def test_a_revoked_vapid_jwt_is_signed_again_once(emulators, webpush):
    tokens = [web_subscription(emulators.webpush, emulators.webpush_env()) for _ in range(2)]
    await webpush.send(message(), tokens[:1])
    emulators.webpush.expire_credentials()
    outcomes = await webpush.send(message(), tokens)
    assert [(o.status, o.attempts) for o in outcomes] == [("sent", 2)] * 2
    assert webpush.vapid.renewals == 2


def _vapid_header(key_file: str, claims: dict) -> str:
    vapid = Vapid02.from_pem(Path(key_file).read_bytes())
    return vapid.sign(claims)["Authorization"]


async def test_the_service_refuses_what_rfc_8030_and_8292_refuse(emulators):
    env = emulators.webpush_env()
    push = emulators.webpush
    token = web_subscription(push, env)
    endpoint = endpoint_of(token)
    key_file = env["GNEWS_WEBPUSH_VAPID_KEY_FILE"]
    subject = env["GNEWS_WEBPUSH_VAPID_SUBJECT"]
    good = _vapid_header(key_file, {"aud": push.url, "sub": subject})
    base = {"Authorization": good, "TTL": "60", "Content-Encoding": "aes128gcm"}
    cases = [
        ({**base, "Authorization": ""}, b"", 401),
        (
            {
                **base,
                "Authorization": _vapid_header(
                    key_file, {"aud": "https://x.example", "sub": subject}
                ),
            },
            b"",
            401,
        ),
        (
            {
                **base,
                "Authorization": _vapid_header(
                    key_file, {"aud": push.url, "sub": subject, "exp": int(time.time()) + 90_000}
                ),
            },
            b"",
            401,
        ),
        ({k: v for k, v in base.items() if k != "TTL"}, b"", 400),
        ({**base, "Urgency": "urgent"}, b"", 400),
        ({**base, "Content-Encoding": "aesgcm"}, b"x" * 100, 415),
        (base, b"x" * (SERVICE_LIMIT + 1), 413),
        (base, b"not an encrypted record, just text", 400),
        (base, b"", 201),  # a push without payload is fine
    ]
    async with httpx.AsyncClient() as http:
        for headers, body, status in cases:
            response = await http.post(endpoint, headers=headers, content=body)
            assert response.status_code == status, (headers, response.text)


async def test_subscriptions_come_from_the_control_route_with_cors(emulators):
    push = emulators.webpush
    key = base64.urlsafe_b64encode(b"\x04" + b"\x01" * 64).rstrip(b"=").decode()
    async with httpx.AsyncClient(base_url=push.url) as http:
        preflight = await http.options(
            "/subscriptions",
            headers={"Origin": "http://127.0.0.1:1", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        refused = await http.post("/subscriptions", json={"applicationServerKey": key})
        assert refused.status_code == 400  # not a point on P-256
        created = await http.post("/subscriptions")
        assert created.status_code == 201
        assert created.headers["access-control-allow-origin"] == "*"
    subscription = created.json()
    assert subscription_error(json.dumps(subscription)) is None
    assert subscription["endpoint"].startswith(f"{push.url}/push/")


def _subscription(**changes) -> str:
    value = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/dJ3x:APA91b",
        "keys": {
            "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1Xbjha"
            "zAkj7I99e8QcYP7DkM",
            "auth": "tBHItJI5svbpez7KI4CCXg",
        },
    }
    value.update(changes)
    return json.dumps(value)


@pytest.mark.parametrize(
    ("token", "error"),
    [
        (_subscription(), None),
        (_subscription(expirationTime=None), None),
        (_subscription(endpoint="http://127.0.0.1:8472/push/abc"), None),
        (_subscription(endpoint="http://push.example.org/abc"), "https URL"),
        (_subscription(endpoint="ftp://push.example.org/abc"), "https URL"),
        (_subscription(endpoint=""), "no endpoint"),
        (_subscription(keys={"p256dh": "BAAA", "auth": "tBHItJI5svbpez7KI4CCXg"}), "p256dh"),
        (
            _subscription(keys={"p256dh": "B" + "A" * 86, "auth": "tBHItJI5svbpez7KI4CCXg"}),
            "p256dh",  # 65 bytes, but not a point on the curve
        ),
        (_subscription(keys={"p256dh": json.loads(_subscription())["keys"]["p256dh"]}), "auth"),
        (_subscription(colour="blue"), "unknown field"),
        ("not json", "PushSubscription"),
        ("[]", "JSON object"),
    ],
)
def test_the_push_token_is_a_push_subscription(token, error):
    found = subscription_error(token)
    if error is None:
        assert found is None
    else:
        assert found is not None and error in found


@pytest.mark.parametrize(
    ("status", "headers", "kind", "reason", "retry_after"),
    [
        (201, {}, "sent", None, None),
        (410, {}, "invalid_token", "Gone", None),
        (404, {}, "invalid_token", "NotFound", None),
        (413, {}, "failed", "PayloadTooLarge", None),
        (429, {"Retry-After": "7"}, "retry", "429", 7.0),
        (503, {}, "retry", "503", None),
        (401, {}, "retry", "Unauthorized", None),
        (400, {}, "failed", "400", None),
    ],
)
def test_push_service_answers_are_mapped_in_one_place(status, headers, kind, reason, retry_after):
    result = classify(status, httpx.Headers(headers))
    assert (result.kind, result.reason, result.retry_after) == (kind, reason, retry_after)


async def test_the_plugin_offers_the_transport_only_when_vapid_is_configured(emulators, tmp_path):
    env = emulators.webpush_env()
    manager = build_plugin_manager(entry_points=False)
    configured = load_settings(
        data_dir=tmp_path,
        webpush_vapid_key_file=env["GNEWS_WEBPUSH_VAPID_KEY_FILE"],
        webpush_vapid_subject=env["GNEWS_WEBPUSH_VAPID_SUBJECT"],
    )
    transports = load_transports(manager, configured)
    assert isinstance(transports.get("web"), WebPushTransport)
    await close_transports(transports)
    transports = load_transports(manager, load_settings(data_dir=tmp_path))
    assert "web" not in transports
    await close_transports(transports)


def test_the_platform_spells_a_subscription_one_way():
    token = _subscription()
    respelled = json.dumps(
        {"keys": dict(reversed(json.loads(token)["keys"].items())), **json.loads(token)}
        | {"expirationTime": None},
        indent=2,
    )
    assert WEB.check_token(respelled) == WEB.check_token(token) == canonical_subscription(token)
    assert json.loads(WEB.check_token(token)) == json.loads(token)
    with pytest.raises(ValueError, match="https URL"):
        WEB.check_token(_subscription(endpoint="http://push.example.org/abc"))


async def test_a_stored_token_that_is_no_subscription_is_an_invalid_token(emulators, webpush):
    good = web_subscription(emulators.webpush, emulators.webpush_env())
    broken_key = json.loads(good)
    broken_key["keys"]["p256dh"] = "B" + "A" * 86  # 65 bytes, not a point on P-256
    outcomes = await webpush.send(message(), ["not json", json.dumps(broken_key), good])
    assert [o.status for o in outcomes] == ["invalid_token", "invalid_token", "sent"]
    assert all(o.reason.startswith("BadSubscription") for o in outcomes[:2])


async def test_a_retry_after_holds_back_only_the_push_service_that_sent_it(emulators, webpush):
    env = emulators.webpush_env()
    async with WebPushEmulator() as other:
        slow, fast = web_subscription(emulators.webpush, env), web_subscription(other, env)
        emulators.webpush.faults.update({"fail_next": [429, 429], "retry_after": 2})
        started = time.monotonic()
        outcomes = await webpush.send(message(), [slow, slow, fast])
        assert [(o.status, o.attempts) for o in outcomes][2] == ("sent", 1)
        assert other.recorder.request_times[0] - started < 1.5  # not after the 2 s wait
        assert all(o.status == "sent" for o in outcomes)
        assert time.monotonic() - started >= 2

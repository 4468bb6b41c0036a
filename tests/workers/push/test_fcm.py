"""The FCM transport against the FCM emulator, through firebase-admin's message model and
credentials (google-auth fetches the access token from the emulator's token endpoint)."""

from __future__ import annotations

import asyncio
import json
import warnings

import httpx
from firebase_admin import messaging

from gnews.dev.embedded import free_port
from tests.support.push import FAST
from workers.push.fcm import FcmTransport, RequestTemplate, build_message, classify
from workers.push.retry import RetryPolicy

from .conftest import message


async def test_sends_with_the_notification_id_as_collapse_key(emulators, fcm):
    note = message(image_url="https://www.prd.go.th/news.jpg", priority="normal")
    outcomes = await fcm.send(note, ["token-a", "token-b", "token-c"])
    assert [(o.token, o.status, o.attempts) for o in outcomes] == [
        ("token-a", "sent", 1),
        ("token-b", "sent", 1),
        ("token-c", "sent", 1),
    ]
    [received] = emulators.fcm.recorder.for_token("token-b")
    assert received.headers == {"project": "gnews-dev", "target": "fid"}
    sent = received.payload
    assert sent["fid"] == "token-b" and "token" not in sent  # firebase-admin 7: fid, not token
    assert sent["android"] == {
        "collapse_key": note.notification_id,
        "priority": "normal",
        "ttl": "3600s",
        "notification": {"tag": note.notification_id},
    }
    assert sent["notification"] == {
        "title": note.title,
        "body": note.body,
        "image": "https://www.prd.go.th/news.jpg",
    }
    assert sent["data"] == {
        "news_id": "n-42",
        "notification_id": note.notification_id,
        "deep_link": "gnews://news/n-42",
    }


def test_each_body_is_exactly_firebase_admins_encoding():
    note = message(data={"quote": 'he said "สวัสดี"\n'})
    template = RequestTemplate(note)
    for token in ["plain", 'with"quote', "ไทย", "a:b_c-d"]:
        expected = '{"message":' + str(build_message(note, token)) + "}"
        assert template.body(token) == expected.encode()


def test_builds_messages_without_deprecated_fields():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        built = build_message(message(), "token-a")
    assert isinstance(built, messaging.Message)
    assert built.fid == "token-a" and built.token is None


async def test_429_is_retried_after_the_retry_after_it_gives(emulators, fcm):
    emulators.fcm.faults.update({"fail_next": [429], "retry_after": 1})
    [outcome] = await fcm.send(message(), ["token-a"])
    assert (outcome.status, outcome.attempts) == ("sent", 2)
    first, second = emulators.fcm.recorder.request_times
    assert second - first >= 1.0  # waited for Retry-After
    assert emulators.fcm.recorder.counts["429"] == 1


async def test_500_and_503_are_retried(emulators, fcm):
    emulators.fcm.faults.update({"fail_next": [503, 500]})
    [outcome] = await fcm.send(message(), ["token-a"])
    assert (outcome.status, outcome.attempts) == ("sent", 3)


async def test_attempts_are_capped_then_the_token_counts_as_failed(emulators, fcm):
    emulators.fcm.faults.update({"fail_next": [503, 503, 503, 503]})
    [outcome] = await fcm.send(message(), ["token-a"])
    assert (outcome.status, outcome.attempts, outcome.retry_after) == ("failed", 3, 0)
    assert outcome.reason.startswith("UNAVAILABLE")
    assert emulators.fcm.recorder.counts["accepted"] == 0


async def test_a_long_retry_after_ends_the_attempts_at_once(emulators, fcm):
    emulators.fcm.faults.update({"fail_next": [429], "retry_after": 120})
    [outcome] = await fcm.send(message(), ["token-a"])
    assert (outcome.status, outcome.attempts, outcome.retry_after) == ("failed", 1, 120)
    assert outcome.reason.startswith("QUOTA_EXCEEDED")


async def test_unregistered_and_invalid_tokens_are_reported_per_token(emulators, fcm):
    emulators.fcm.faults.update({"unregistered": ["gone"], "unregistered_prefix": "old-"})
    outcomes = await fcm.send(message(), ["ok", "gone", "not a token!", "old-1", "ok-2"])
    assert [o.status for o in outcomes] == [
        "sent",
        "invalid_token",
        "invalid_token",
        "invalid_token",
        "sent",
    ]
    assert outcomes[1].reason.startswith("UNREGISTERED")
    assert outcomes[2].reason.startswith("INVALID_ARGUMENT")
    assert all(o.attempts == 1 for o in outcomes)


def test_invalid_argument_about_the_message_is_not_a_token_error():
    body = {
        "error": {
            "code": 400,
            "message": "Message is too big",
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                    "errorCode": "INVALID_ARGUMENT",
                }
            ],
        }
    }
    result = classify(400, json.dumps(body).encode(), {})
    assert (result.kind, result.reason) == ("failed", "INVALID_ARGUMENT: Message is too big")
    assert classify(403, b'{"error":{"status":"PERMISSION_DENIED"}}', {}).kind == "failed"
    mismatch = {
        "error": {"details": [{**body["error"]["details"][0], "errorCode": "SENDER_ID_MISMATCH"}]}
    }
    assert classify(403, json.dumps(mismatch).encode(), {}).kind == "invalid_token"


async def test_latency_is_waited_for_and_a_time_out_is_transient(emulators):
    credentials = emulators.credentials.service_account_file
    emulators.fcm.faults.update({"latency": 0.05})
    patient = FcmTransport(credentials, endpoint=emulators.fcm.url, policy=FAST, timeout=2)
    impatient = FcmTransport(credentials, endpoint=emulators.fcm.url, policy=FAST, timeout=0.01)
    try:
        [ok] = await patient.send(message(), ["token-a"])
        [late] = await impatient.send(message(), ["token-b"])
    finally:
        await patient.aclose()
        await impatient.aclose()
    assert ok.status == "sent"
    assert (late.status, late.attempts) == ("failed", 3)
    assert "no response" in late.reason


async def test_an_expired_access_token_is_replaced(emulators, fcm):
    await fcm.send(message(), ["token-a"])
    assert (fcm.token_refreshes, emulators.fcm.tokens_issued) == (1, 1)
    emulators.fcm.expire_credentials()
    outcomes = await fcm.send(message(), [f"token-{n}" for n in range(20)])
    assert {o.status for o in outcomes} == {"sent"}
    assert (fcm.token_refreshes, emulators.fcm.tokens_issued) == (2, 2)  # once for all 20
    assert emulators.fcm.recorder.counts["401"] >= 1


async def test_an_unreachable_gateway_fails_after_the_capped_attempts(emulators):
    transport = FcmTransport(
        emulators.credentials.service_account_file,
        endpoint=f"http://127.0.0.1:{free_port()}",
        policy=RetryPolicy(max_attempts=2, base_delay=0.01),
    )
    try:
        [outcome] = await transport.send(message(), ["token-a"])
    finally:
        await transport.aclose()
    assert (outcome.status, outcome.attempts) == ("failed", 2)
    assert "cannot connect" in outcome.reason


async def test_the_emulator_speaks_fcm_errors(emulators):
    async with httpx.AsyncClient(base_url=emulators.fcm.url) as http:
        url = "/v1/projects/gnews-dev/messages:send"
        refused = await http.post(url, json={"message": {"token": "x"}})
        assert refused.status_code == 401
        assert refused.json()["error"]["status"] == "UNAUTHENTICATED"
        grant = await http.post(
            "/token",
            data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "x"},
        )
        assert grant.status_code == 400 and grant.json()["error"] == "invalid_grant"


async def test_firebase_admins_own_send_is_understood_by_the_emulator(emulators):
    import firebase_admin
    from firebase_admin import credentials

    def send_with_firebase_admin() -> messaging.BatchResponse:
        # In a thread with its own loop: firebase-admin refreshes its token with blocking
        # `requests` calls inside its async path, which would block the emulator's loop.
        app = firebase_admin.initialize_app(
            credentials.Certificate(str(emulators.credentials.service_account_file)),
            name=f"emulator-test-{id(emulators)}",
        )
        try:
            service = messaging._get_messaging_service(app)
            # firebase-admin has no setting for the FCM host: point its (private) URL here.
            service._fcm_url = f"{emulators.fcm.url}/v1/projects/gnews-dev/messages:send"

            async def send() -> messaging.BatchResponse:
                try:
                    return await messaging.send_each_async(
                        [build_message(message(), "token-a")], app=app
                    )
                finally:  # on this loop: delete_app closes it again with a loop of its own
                    await service._async_client.aclose()

            return asyncio.run(send())
        finally:
            firebase_admin.delete_app(app)

    response = await asyncio.to_thread(send_with_firebase_admin)
    assert response.success_count == 1
    assert response.responses[0].message_id.startswith("projects/gnews-dev/messages/")
    assert emulators.fcm.recorder.for_token("token-a")


async def test_the_access_token_is_renewed_before_it_expires(emulators, fcm):
    emulators.fcm.token_ttl = 2  # seconds: renewed after half its life
    await fcm.send(message(), ["token-a"])
    await asyncio.sleep(1.1)
    [outcome] = await fcm.send(message(), ["token-b"])
    assert (outcome.status, outcome.attempts) == ("sent", 1)
    assert emulators.fcm.tokens_issued == 2
    assert emulators.fcm.recorder.counts["401"] == 0


async def test_reconnects_after_the_server_went_away(emulators, fcm):
    from gnews.dev.emulators.fcm import FcmEmulator

    [first] = await fcm.send(message(), ["token-a"])
    port = emulators.fcm.port
    await emulators.fcm.stop()  # closes the idle keep-alive connections
    emulators.fcm = await FcmEmulator(port=port).start()  # knows no access token
    [second] = await fcm.send(message(), ["token-b"])
    assert (first.status, second.status) == ("sent", "sent")
    assert emulators.fcm.recorder.for_token("token-b")

"""The HMS Push Kit transport against the HMS emulator: the OAuth 2.0 client-credentials token
(cached, fetched again when Push Kit says it expired), the v1 send API with up to 1000 tokens
per request, and the result codes mapped to sent / invalid token / retry / failed."""

from __future__ import annotations

import json
import time

import pytest

from gnews.dev.emulators.hms import HmsEmulator, check_message
from gnews.specs import PushMessage
from tests.support.push import FAST, hms_token, hms_transport
from workers.push.hms import HUAWEI, classify, hms_message, hms_payload_bytes
from workers.push.retry import RetryPolicy

from .conftest import message


@pytest.fixture
async def hms(emulators):
    """The HMS transport, pointed at the emulator (inside the FCM emulator's port)."""
    transport = hms_transport(emulators.env())
    yield transport
    await transport.aclose()


async def test_sends_one_request_for_the_batch_with_the_message_built_for_push_kit(emulators, hms):
    note = message(image_url="https://www.prd.go.th/news.jpg", priority="normal")
    tokens = [hms_token(n) for n in range(3)]
    outcomes = await hms.send(note, tokens)
    assert [(o.token, o.status, o.attempts) for o in outcomes] == [
        (token, "sent", 1) for token in tokens
    ]
    counts = emulators.hms.recorder.counts
    assert counts["requests"] == 1 and counts["accepted"] == 3
    [received] = emulators.hms.recorder.for_token(tokens[1])
    sent = received.payload
    assert received.headers == {"app_id": "107000001"}
    assert sent["notification"] == {
        "title": note.title,
        "body": note.body,
        "image": "https://www.prd.go.th/news.jpg",
    }
    assert sent["android"] == {
        "urgency": "NORMAL",
        "ttl": "3600s",
        "notification": {
            "click_action": {"type": 1, "intent": "gnews://news/n-42"},
            "tag": note.notification_id,
            "importance": "NORMAL",
        },
    }
    assert json.loads(sent["data"]) == {
        "news_id": "n-42",
        "notification_id": note.notification_id,
        "deep_link": "gnews://news/n-42",
    }
    assert hms.token_refreshes == 1  # cached for the next send
    await hms.send(note, tokens[:1])
    assert hms.token_refreshes == 1 and emulators.hms.tokens_issued == 1


async def test_a_message_without_deep_link_opens_the_app_and_always_has_a_body():
    body = hms_message(message(deep_link=None, body=""), ["t" * 40])
    assert body["android"]["notification"]["click_action"] == {"type": 3}
    assert body["notification"]["body"] == body["notification"]["title"]
    check_message({"message": body})  # the emulator's shape check takes it


async def test_more_than_1000_tokens_go_in_several_requests(emulators, hms):
    tokens = [hms_token(n) for n in range(1001)]
    outcomes = await hms.send(message(), tokens)
    assert [o.token for o in outcomes] == tokens
    assert {o.status for o in outcomes} == {"sent"}
    assert emulators.hms.recorder.counts["requests"] == 2


async def test_illegal_tokens_are_invalid_and_the_others_sent(emulators, hms):
    tokens = [hms_token(n) for n in range(4)]
    emulators.hms.faults.update({"unregistered": [tokens[1], tokens[3]]})
    outcomes = await hms.send(message(), tokens)
    assert [o.status for o in outcomes] == ["sent", "invalid_token", "sent", "invalid_token"]
    assert outcomes[1].reason == "80100000: illegal token"
    assert emulators.hms.recorder.counts["80100000"] == 1
    # All of them unknown: 80300007, every token invalid.
    emulators.hms.faults.update({"unregistered": tokens})
    outcomes = await hms.send(message(), tokens[:2])
    assert [o.status for o in outcomes] == ["invalid_token", "invalid_token"]
    assert outcomes[0].reason is not None and outcomes[0].reason.startswith("80300007")


async def test_retries_429_and_5xx_with_back_off_then_sends(emulators, hms):
    emulators.hms.faults.update({"fail_next": [429, 503, 500], "retry_after": 0})
    hms.policy = RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=0.2, max_retry_after=2)
    [outcome] = await hms.send(message(), [hms_token()])
    assert (outcome.status, outcome.attempts) == ("sent", 4)
    assert len(emulators.hms.recorder.request_times) == 4
    counts = emulators.hms.recorder.counts
    assert (counts["429"], counts["503"], counts["500"]) == (1, 1, 1)


async def test_retry_after_is_honoured_and_the_last_failure_reported(emulators, hms):
    emulators.hms.faults.update({"fail_next": [503, 503, 503], "retry_after": 1})
    started = time.monotonic()
    [outcome] = await hms.send(message(), [hms_token()])
    assert time.monotonic() - started >= 2  # two waits of Retry-After: 1
    assert (outcome.status, outcome.attempts, outcome.retry_after) == ("failed", 3, 1.0)
    assert outcome.reason is not None and outcome.reason.startswith("81000001")
    # Longer than the policy allows: reported at once, for the send job to defer the batch.
    emulators.hms.faults.update({"fail_next": [429], "retry_after": 60})
    [deferred] = await hms.send(message(), [hms_token()])
    assert (deferred.status, deferred.attempts, deferred.retry_after) == ("failed", 1, 60.0)


async def test_an_expired_access_token_is_fetched_again(emulators, hms):
    await hms.send(message(), [hms_token()])
    emulators.hms.expire_credentials()
    [outcome] = await hms.send(message(), [hms_token(1)])
    assert (outcome.status, outcome.attempts) == ("sent", 2)
    assert emulators.hms.recorder.counts["80200003"] == 1
    assert hms.token_refreshes == 2 and emulators.hms.tokens_issued == 2


async def test_the_token_is_fetched_again_near_its_expiry():
    async with HmsEmulator(token_ttl=2) as short:
        transport = hms_transport(short.env())
        try:
            await transport.send(message(), [hms_token()])
            await transport.send(message(), [hms_token()])
            assert transport.token_refreshes == 1  # 2 s lifetime: valid for 1 s
            transport._token_deadline = 0  # as if that second had passed
            await transport.send(message(), [hms_token()])
            assert transport.token_refreshes == 2 and short.tokens_issued == 2
        finally:
            await transport.aclose()


async def test_wrong_client_credentials_fail_without_retrying(emulators):
    env = {**emulators.env(), "GNEWS_HMS_CLIENT_SECRET": "not-the-secret"}
    transport = hms_transport(env)
    try:
        [outcome] = await transport.send(message(), [hms_token()])
    finally:
        await transport.aclose()
    assert (outcome.status, outcome.attempts) == ("failed", 1)
    assert outcome.reason is not None and "401" in outcome.reason
    assert emulators.hms.recorder.counts["requests"] == 0


async def test_an_unreachable_gateway_is_retried_then_failed():
    transport = hms_transport(
        {
            "GNEWS_HMS_APP_ID": "1",
            "GNEWS_HMS_CLIENT_ID": "1",
            "GNEWS_HMS_CLIENT_SECRET": "s",
            "GNEWS_HMS_TOKEN_ENDPOINT": "http://127.0.0.1:9/oauth2/v3/token",
            "GNEWS_HMS_PUSH_ENDPOINT": "http://127.0.0.1:9",
        },
        policy=FAST,
    )
    try:
        [outcome] = await transport.send(message(), [hms_token()])
    finally:
        await transport.aclose()
    assert (outcome.status, outcome.attempts) == ("failed", 3)
    assert outcome.reason is not None and outcome.reason.startswith("credentials: ConnectError")


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (200, {"code": "80000000", "msg": "Success"}, "sent"),
        (400, {"code": "80300007", "msg": "All tokens are invalid"}, "invalid_tokens"),
        (401, {"code": "80200003", "msg": "OAuth token expired"}, "refresh"),
        (401, {"code": "80200001", "msg": "OAuth authentication error"}, "refresh"),
        (500, {"code": "81000001", "msg": "System internal error"}, "retry"),
        (503, {}, "retry"),
        (429, {}, "retry"),
        (400, {"code": "80300008", "msg": "too big"}, "failed"),
        (400, {"code": "80100003", "msg": "Incorrect message structure"}, "failed"),
        (403, {"code": "80300002", "msg": "no permission"}, "failed"),
    ],
)
def test_result_codes_are_mapped_in_one_place(status, body, kind):
    verdict = classify(status, json.dumps(body).encode(), {"retry-after": "3"})
    assert verdict.kind == kind
    if kind == "retry":
        assert verdict.retry_after == 3.0


def test_partial_success_names_the_illegal_tokens():
    detail = json.dumps({"success": 1, "failure": 1, "illegal_tokens": ["bad"]})
    verdict = classify(200, json.dumps({"code": "80100000", "msg": detail}).encode(), {})
    assert (verdict.kind, verdict.illegal_tokens) == ("partial", frozenset({"bad"}))


def test_the_platform_declares_its_token_rule_and_message_limit():
    assert HUAWEI.check_token(f" {hms_token(1)} ") == hms_token(1)
    for bad in ("short", "x" * 513, "spaces are not allowed in a token of hms"):
        with pytest.raises(ValueError, match="HMS Push Kit token"):
            HUAWEI.check_token(bad)
    note = message()
    assert hms_payload_bytes(note) == len(
        json.dumps(hms_message(note, []), ensure_ascii=False, separators=(",", ":")).encode()
    )
    big = PushMessage(**{**message().model_dump(), "data": {"k": "ก" * 1500}})
    assert hms_payload_bytes(big) > (HUAWEI.max_payload_bytes or 0)

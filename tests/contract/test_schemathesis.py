"""Property-based tests generated from the OpenAPI document (schemathesis) against the live
API, with anonymous, device, agency and admin credentials: no 5xx, and every response (status,
content type, headers, body) is what the document says.

Schemathesis' own pytest integration (``schemathesis.pytest.from_fixture``) fails on pytest 9
(it reads a private attribute of the test node), so each credential's test walks the
operations with ``operation.as_strategy()`` and Hypothesis itself. Bounded: a few examples per
operation and credential (``MAX_EXAMPLES``), so the whole run stays near a minute; the examples
are derandomised, so a failure reproduces.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.contract.live import LiveAPI, live_settings, serve_live
from tests.contract.seed import Seeded, bearer, deliver, register_device, seed_database

MAX_EXAMPLES = 2
# Partial updates are where stored data can be broken (a null written into a required field
# was a 500 on every later read): more cases for them.
PATCH_EXAMPLES = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
_device_numbers = itertools.count(1000)


@pytest.fixture(scope="module")
def live(servers, tmp_path_factory) -> Iterator[LiveAPI]:
    settings_ = live_settings(
        servers.mongodb_uri, servers.redis_url, tmp_path_factory.mktemp("fuzz") / "var"
    )
    with serve_live(settings_) as api:
        yield api


@pytest.fixture(scope="module")
def seeded(live: LiveAPI) -> Seeded:
    return live.run(seed_database())


@pytest.fixture(scope="module")
def credentials(live: LiveAPI, seeded: Seeded) -> dict[str, dict]:
    device = register_device(live.url, next(_device_numbers))
    live.run(deliver(seeded.notification_id, device["id"]))
    return {
        "anonymous": {"headers": {}},
        "device": {
            "headers": {"Authorization": f"Device {device['secret']}"},
            "device_id": device["id"],
        },
        "agency": {"headers": bearer(live.url, seeded.emails["agency"])},
        "admin": {"headers": bearer(live.url, seeded.emails["admin"])},
    }


@pytest.fixture(scope="module")
def openapi_schema(live: LiveAPI):
    # Fetched once here (building the document takes seconds on a busy machine).
    document = httpx.get(f"{live.url}/schema/openapi.json", timeout=120).raise_for_status()
    return schemathesis.openapi.from_dict(document.json())


def _known_ids(seeded: Seeded) -> dict[str, str]:
    """Path parameters that name seeded things, so cases reach past the 404."""
    return {
        "item_id": seeded.news_ids[0],
        "notification_id": seeded.notification_id,
        "source_id": seeded.source_id,
        "code": "tmd",
    }


FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def call_and_validate(case, credential: str, credentials, seeded: Seeded, live: LiveAPI) -> None:
    """Send ``case`` as ``credential``, with known ids in some paths; run :data:`CHECKS`."""
    given = credentials[credential]
    if case.path_parameters:
        for name, value in _known_ids(seeded).items():
            if name in case.path_parameters:
                case.path_parameters[name] = value
        if "device_id" in case.path_parameters and credential == "device":
            if case.method == "DELETE" and case.path.endswith("{device_id}"):
                # deactivating the shared device would end the device's run: use a new one
                device = register_device(live.url, next(_device_numbers))
                case.path_parameters["device_id"] = device["id"]
                given = {"headers": {"Authorization": f"Device {device['secret']}"}}
            else:
                case.path_parameters["device_id"] = given["device_id"]
    case.call_and_validate(base_url=live.url, headers=given["headers"], checks=CHECKS)


def fuzz(credential: str, credentials, seeded: Seeded, live: LiveAPI, schema) -> None:
    """Every operation of ``schema`` with :data:`MAX_EXAMPLES` generated cases each, as
    ``credential``; one assertion listing every operation that failed."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            FUZZ, max_examples=PATCH_EXAMPLES if operation.method == "patch" else MAX_EXAMPLES
        )
        @given(case=operation.as_strategy())
        def run(case) -> None:
            call_and_validate(case, credential, credentials, seeded, live)

        try:
            run()
        except (
            Exception,
            BaseExceptionGroup,
        ) as failure:  # schemathesis' report: the check, the request as curl
            failures.append(f"== {operation.label}\n{failure}")
    assert not failures, f"{len(failures)} operations failed:\n" + "\n".join(failures)


def test_anonymous(credentials, seeded, live, openapi_schema):
    fuzz("anonymous", credentials, seeded, live, openapi_schema)


def test_device(credentials, seeded, live, openapi_schema):
    fuzz("device", credentials, seeded, live, openapi_schema)


def test_agency(credentials, seeded, live, openapi_schema):
    fuzz("agency", credentials, seeded, live, openapi_schema)


def test_admin(credentials, seeded, live, openapi_schema):
    fuzz("admin", credentials, seeded, live, openapi_schema)

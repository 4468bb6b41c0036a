"""The OpenAPI document tells the truth: real error bodies and statuses, meaningful operation
ids, parameter limits, optional bodies; HEAD on every GET; 415 for a body that is not JSON."""

from __future__ import annotations

import re

from tests.support.api import assert_error

ERROR_REF = "#/components/schemas/ErrorBody"
METHODS = ("get", "post", "put", "patch", "delete")


def operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


async def test_every_error_response_is_the_one_error_body(client):
    schema = (await client.get("/schema/openapi.json")).json()
    ops = list(operations(schema))
    assert len(ops) >= 70
    for path, method, op in ops:
        for status, response in op["responses"].items():
            if int(status) < 400 or path == "/health/ready":
                continue
            media = response["content"]["application/json"]
            assert media["schema"] == {"$ref": ERROR_REF}, (method, path, status)
            example = next(iter(media["examples"].values()))["value"]
            assert example["error"]["status"] == int(status)
    error = schema["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"status", "code", "message", "request_id"}
    assert "status_code" not in str(schema)  # Litestar's placeholder error shape is gone


async def test_errors_listed_follow_from_guards_params_bodies_and_limits(client):
    schema = (await client.get("/schema/openapi.json")).json()
    by_id = {op["operationId"]: (path, method, op) for path, method, op in operations(schema)}

    def statuses(operation_id):
        return set(by_id[operation_id][2]["responses"])

    assert statuses("listNews") >= {"200", "422", "429", "503"}
    assert "401" not in statuses("listNews") and "404" not in statuses("listNews")
    assert statuses("getNews") >= {"404", "422", "429"}
    assert statuses("listUsers") >= {"401", "403", "422", "503"}
    assert statuses("registerDevice") >= {"400", "409", "413", "415", "422", "429", "503"}
    assert statuses("getDevice") >= {"401", "404", "429"}
    assert statuses("login") >= {"400", "401", "415", "422"}
    assert statuses("live") == {"200"}
    limited = by_id["listNews"][2]["responses"]["429"]
    assert "Retry-After" in limited["headers"]
    assert "WWW-Authenticate" in by_id["getDevice"][2]["responses"]["401"]["headers"]


async def test_operation_ids_are_meaningful_and_unique(client):
    schema = (await client.get("/schema/openapi.json")).json()
    ids = [op["operationId"] for _, _, op in operations(schema)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][A-Za-z]*", i) and "ApiV1" not in i for i in ids), ids
    expected = {"login", "listNews", "getNews", "registerDevice", "registerDeveloper",
                "deviceFeed", "inbox", "approveItem", "approveListing", "createUser",
                "createNotification"}  # fmt: skip
    assert expected <= set(ids)


async def test_descriptions_come_from_the_handlers(client):
    schema = (await client.get("/schema/openapi.json")).json()
    register = schema["paths"]["/api/v1/devices"]["post"]
    assert "secret" in register["description"]


async def test_paging_limits_are_in_the_schema_and_enforced_alike(client):
    schema = (await client.get("/schema/openapi.json")).json()
    params = {p["name"]: p for p in schema["paths"]["/api/v1/news"]["get"]["parameters"]}
    limit = params["limit"]["schema"]  # a plain integer: a query parameter cannot be null
    assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 100)
    assert (await client.get("/api/v1/news", params={"limit": 100})).status_code == 200
    for bad in (0, 101):
        assert_error(await client.get("/api/v1/news", params={"limit": bad}), 422, field="limit")
    cursor = params["cursor"]["schema"]
    assert cursor["type"] == "string" and cursor["pattern"] and cursor["maxLength"]
    assert len(params["province"]["schema"]["enum"]) == 77
    assert params["q"]["schema"]["maxLength"] == 200
    assert_error(await client.get("/api/v1/news", params={"q": "ก" * 201}), 422, field="q")
    assert_error(await client.get("/api/v1/news", params={"cursor": "not a cursor!"}), 422)


async def test_a_body_the_handler_does_not_need_is_optional(client):
    schema = (await client.get("/schema/openapi.json")).json()
    send = schema["paths"]["/api/v1/notifications/{notification_id}/send"]["post"]
    assert send["requestBody"]["required"] is False
    assert "oneOf" not in send["requestBody"]["content"]["application/json"]["schema"]
    login = schema["paths"]["/api/v1/auth/login"]["post"]
    assert login["requestBody"]["required"] is True


async def test_head_answers_like_get_without_a_body(client):
    for path in ("/api/v1/provinces", "/api/v1/news", "/health/live", "/schema/openapi.json"):
        got = await client.get(path)
        head = await client.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["content-length"] == got.headers["content-length"]
    etag = (await client.get("/api/v1/news")).headers["etag"]
    assert (await client.head("/api/v1/news", headers={"If-None-Match": etag})).status_code == 304
    assert (await client.head("/api/v1/nothing-here")).status_code == 404


async def test_a_body_that_is_not_json_is_415(client):
    body = '{"email": "a@example.org", "password": "x"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": content_type} if content_type else {}
        response = await client.post("/api/v1/auth/login", content=body, headers=headers)
        error = assert_error(response, 415)
        assert "application/json" in error["message"]
    as_json = await client.post(
        "/api/v1/auth/login",
        content=body,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert_error(as_json, 401)  # it was read: the account does not exist
    assert_error(
        await client.post(
            "/api/v1/auth/login", content="{", headers={"Content-Type": "application/json"}
        ),
        400,
    )


async def test_news_and_apps_name_their_cached_images_beside_the_agencies_urls(client):
    """``image_url`` / ``icon_url`` stay (the apps may use them); ``image_local_url`` /
    ``icon_local_url`` are our copies (absolute), null while not cached."""
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    for name, agency, local in (
        ("NewsItemOut", "image_url", "image_local_url"),
        ("AppOut", "icon_url", "icon_local_url"),
    ):
        properties = schemas[name]["properties"]
        assert agency in properties and local in properties, name
        assert local in schemas[name]["required"], name  # present, null or a URL
        kinds = {
            choice.get("type") for choice in properties[local].get("oneOf", [properties[local]])
        }
        assert kinds == {"string", "null"}, (name, properties[local])
        assert "not cached" in properties[local]["description"], name

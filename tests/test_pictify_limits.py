"""Pictify's rate limits and error fields: `X-RateLimit-*` on every answer of its routes,
429 with `Retry-After` past `PICTIFY_RATE_PER_MINUTE`/`PICTIFY_DAILY_LIMIT` per API key,
RFC 9457 fields on its errors, and nothing of either on the other dialects' routes. The
SDK's `RateLimitError` is checked through a real server at the end."""

from datetime import UTC, datetime, timedelta

import pytest

from pixhaven.timeutil import iso, utcnow
from pixhaven.worker import run_scheduled

from .conftest import ADMIN_TOKEN, assert_error_envelope, bearer
from .dev_server import run_dev_server

DAY_ONLY = {"PICTIFY_RATE_PER_MINUTE": "0", "PICTIFY_DAILY_LIMIT": "3"}


def next_midnight() -> int:
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    return int((today + timedelta(days=1)).timestamp())


def rate_headers(response) -> tuple[int, int, int]:
    headers = response.headers
    return (
        int(headers["X-RateLimit-Limit"]),
        int(headers["X-RateLimit-Remaining"]),
        int(headers["X-RateLimit-Reset"]),
    )


@pytest.mark.parametrize("settings_overrides", [DAY_ONLY])
async def test_remaining_decreases_then_429_with_retry_after(client, admin):
    seen = [rate_headers(await client.get("/templates", headers=admin)) for _ in range(3)]
    assert [remaining for _, remaining, _ in seen] == [2, 1, 0]
    assert {(limit, reset) for limit, _, reset in seen} == {(3, next_midnight())}

    refused = await client.get("/templates", headers=admin)
    body = assert_error_envelope(refused, 429, "RATE_LIMITED")
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 86_401
    assert rate_headers(refused) == (3, 0, next_midnight())
    # Pictify's problem fields, and the retry-after its documentation and SDK read.
    assert body["type"] == "https://docs.pictify.io/errors/rate-limit-exceeded"
    assert (body["title"], body["status"], body["instance"]) == (
        "Rate Limit Exceeded",
        429,
        "/templates",
    )
    assert (
        body["detail"] == body["error"] == "You have exceeded the rate limit of 3 requests per day."
    )
    assert (
        body["retryAfter"] == body["retry_after"] == body["details"]["retry_after"] == retry_after
    )
    assert body["details"]["period"] == "day"
    # Every Pictify route shares the allowance: a POST is refused before its body is read.
    assert (await client.post("/image", json={}, headers=admin)).status_code == 429


@pytest.mark.parametrize("settings_overrides", [DAY_ONLY])
async def test_each_api_key_has_its_own_allowance(client, admin, make_key):
    first, _ = await make_key(["templates:read"], owner="acme")
    second, _ = await make_key(["templates:read"], owner="acme")
    for _ in range(3):
        assert (await client.get("/templates", headers=bearer(first))).status_code == 200
    assert (await client.get("/templates", headers=bearer(first))).status_code == 429
    answer = await client.get("/templates", headers=bearer(second))
    assert answer.status_code == 200 and rate_headers(answer)[1] == 2
    # The admin token is counted for its owner, apart from the keys.
    assert rate_headers(await client.get("/templates", headers=admin))[1] == 2


async def fill_minute(env, subject: str, limit: int) -> None:
    """The current and the next minute's windows as full as the limiter leaves them, so the
    next request is refused whenever it lands."""
    now = utcnow()
    for moment in (now, now + timedelta(minutes=1)):
        start = moment.replace(second=0, microsecond=0)
        await (
            env.DB.prepare(
                "INSERT OR REPLACE INTO rate_windows (subject, slot, hits, cap, expires_at)"
                " VALUES (?, ?, ?, ?, ?)"
            )
            .bind(
                subject,
                "m:" + start.strftime("%Y-%m-%dT%H:%M"),
                limit,
                limit,
                iso(start + timedelta(minutes=1)),
            )
            .run()
        )


@pytest.mark.parametrize(
    "settings_overrides", [{"PICTIFY_RATE_PER_MINUTE": "5", "PICTIFY_DAILY_LIMIT": "1000"}]
)
async def test_the_minute_window_refuses_until_the_minute_ends(client, admin, env):
    allowed = await client.get("/templates", headers=admin)
    limit, remaining, reset = rate_headers(allowed)
    # The minute is the window closer to its limit, so it is the one reported.
    assert (limit, remaining) == (5, 4) and reset % 60 == 0

    await fill_minute(env, "owner:default_user", 5)
    refused = await client.get("/templates", headers=admin)
    body = assert_error_envelope(refused, 429, "RATE_LIMITED")
    assert body["details"] == {"limit": 5, "period": "minute", "retry_after": body["retryAfter"]}
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert int(refused.headers["X-RateLimit-Limit"]) == 5
    assert refused.headers["X-RateLimit-Remaining"] == "0"


@pytest.mark.parametrize(
    "settings_overrides", [{"PICTIFY_RATE_PER_MINUTE": "0", "PICTIFY_DAILY_LIMIT": "0"}]
)
async def test_limits_can_be_turned_off(client, admin):
    for _ in range(5):
        answer = await client.get("/templates", headers=admin)
        assert answer.status_code == 200 and "X-RateLimit-Limit" not in answer.headers


async def test_the_documented_free_plan_is_the_default(client, admin):
    assert rate_headers(await client.get("/templates", headers=admin))[:2] == (60, 59)


async def test_error_answers_carry_the_headers_and_pictify_problem_fields(client, admin):
    missing = await client.get("/templates/tmpl_nope", headers=admin)
    body = assert_error_envelope(missing, 404)
    assert rate_headers(missing)[:2] == (60, 59)
    assert body["type"] == "https://docs.pictify.io/errors/template-not-found"
    assert (body["title"], body["status"], body["instance"]) == (
        "Template Not Found",
        404,
        "/templates/tmpl_nope",
    )
    assert body["detail"] == body["error"]
    no_batch = await client.get("/templates/batch/nope/results", headers=admin)
    assert assert_error_envelope(no_batch, 404)["type"].endswith("/errors/not-found")

    invalid = await client.post("/image", content=b"{not json", headers=admin)
    body = assert_error_envelope(invalid, 400)
    assert body["type"] == "https://docs.pictify.io/errors/validation-error"
    assert body["title"] == "Validation Error" and body["instance"] == "/image"
    assert body["errors"] == [{"field": "", "message": "invalid JSON"}]
    assert body["details"]["errors"] == body["errors"]  # the envelope's own copy stays
    assert rate_headers(invalid)[1] == 57


async def test_query_validation_errors_are_listed_with_pictify_codes(client, admin):
    answer = await client.get("/templates?page=0&limit=abc", headers=admin)
    body = assert_error_envelope(answer, 400, "INVALID_REQUEST")
    assert body["title"] == "Validation Error" and body["instance"] == "/templates"
    codes = {item["field"]: item["code"] for item in body["errors"]}
    assert codes == {"query.page": "out_of_range", "query.limit": "invalid_type"}
    assert all(item["message"] for item in body["errors"])


async def test_a_render_answer_carries_the_headers(client, admin):
    card = {"width": 120, "height": 60, "background": "#102030", "components": []}
    rendered = await client.post("/image", json=card, headers=admin)
    assert rendered.status_code == 200, rendered.text
    assert rate_headers(rendered)[:2] == (60, 59)
    assert "x-ratelimit-remaining" in rendered.headers["access-control-expose-headers"].lower()


async def test_unauthenticated_requests_are_not_counted(client, admin):
    anonymous = await client.get("/templates")
    body = assert_error_envelope(anonymous, 401)
    assert "X-RateLimit-Limit" not in anonymous.headers
    assert body["type"] == "https://docs.pictify.io/errors/missing-authorization"
    assert body["title"] == "Missing Authorization" and body["status"] == 401
    wrong = await client.get("/templates", headers=bearer("pxf_not_a_key"))
    body = assert_error_envelope(wrong, 401)
    assert body["type"] == "https://docs.pictify.io/errors/invalid-api-key"
    assert "X-RateLimit-Limit" not in wrong.headers
    assert rate_headers(await client.get("/templates", headers=admin))[1] == 59


async def test_other_dialects_get_neither_headers_nor_problem_fields(client, admin):
    listed = await client.get("/v1/images", headers=admin)
    assert listed.status_code == 200 and "X-RateLimit-Limit" not in listed.headers
    for path in ("/v1/images/nope", "/api/v1/image"):
        answer = await client.get(path, headers=admin)
        assert answer.status_code >= 400 and "X-RateLimit-Limit" not in answer.headers
        assert not {"type", "title", "status", "instance"} & set(answer.json()), answer.json()
    # "/images" is not Pictify's "/image".
    assert "type" not in (await client.get("/images/x", headers=admin)).json()


async def test_the_cron_drops_ended_windows(client, admin, env):
    await client.get("/templates", headers=admin)
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    await (
        env.DB.prepare(
            "INSERT INTO rate_windows (subject, slot, hits, cap, expires_at) VALUES (?, ?, 1, 60, ?)"
        )
        .bind("owner:default_user", "m:2020-01-01T00:00", iso(long_ago))
        .run()
    )
    assert (await run_scheduled(env))["rate_windows_purged"] == 1
    # The current windows stay: the next request goes on counting.
    assert rate_headers(await client.get("/templates", headers=admin))[1] == 58


# -- Pictify's SDK against a real server -------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sdk_limits")
    yield from run_dev_server(folder, PICTIFY_RATE_PER_MINUTE="0", PICTIFY_DAILY_LIMIT="2")


def test_sdk_raises_its_rate_limit_error_with_the_retry_after(server):
    from pictify import Pictify
    from pictify.errors import RateLimitError, TemplateNotFoundError

    with Pictify(api_key=ADMIN_TOKEN, base_url=server, max_retries=0) as sdk:
        for _ in range(2):
            with pytest.raises(TemplateNotFoundError):
                sdk.get_template("tmpl_missing")
        with pytest.raises(RateLimitError) as raised:
            sdk.get_template("tmpl_missing")
    error = raised.value
    assert error.status_code == 429 and 1 <= error.retry_after <= 86_401
    assert error.message == "You have exceeded the rate limit of 2 requests per day."
    assert error.response_body["type"] == "https://docs.pictify.io/errors/rate-limit-exceeded"

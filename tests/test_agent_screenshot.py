"""Pictify `POST /image/agent-screenshot`: without an instruction model the answer is a 503
saying what to configure (the local offline AI stand-in draws images only, and this suite
has no Workers AI credentials); the model's answer is checked by `plan_of`, fed strings as
a model could answer them."""

import pytest

from pixhaven.errors import ApiError
from pixhaven.services.rendering.agent import plan_of
from tests.conftest import assert_error_envelope, bearer

PROMPT = {"prompt": "Take a screenshot of the pricing section on stripe.com"}


async def test_without_an_instruction_model_the_answer_says_what_to_configure(client, admin):
    response = await client.post("/image/agent-screenshot", json=PROMPT, headers=admin)
    error = assert_error_envelope(response, 503, "AI_MODEL_NOT_AVAILABLE")
    assert "AI_INSTRUCTION_MODEL" in error["error"] and "CLOUDFLARE_API_TOKEN" in error["error"]
    assert "5007" in error["details"]["reason"]  # the offline stand-in has no such model


@pytest.mark.parametrize("settings_overrides", [{"AI_INSTRUCTION_MODEL": ""}])
async def test_an_empty_model_setting_is_503_too(client, admin):
    response = await client.post("/image/agent-screenshot", json=PROMPT, headers=admin)
    error = assert_error_envelope(response, 503, "AI_MODEL_NOT_AVAILABLE")
    assert error["details"]["reason"] == "no instruction model is configured"


@pytest.mark.parametrize("body", [{}, {"prompt": ""}, {"prompt": 5}, {"prompt": "x" * 2001}])
async def test_bad_prompts_are_400(client, admin, body):
    response = await client.post("/image/agent-screenshot", json=body, headers=admin)
    error = assert_error_envelope(response, 400)
    assert error["details"]["errors"][0]["field"] == "prompt"


async def test_scope(client, make_key):
    key, _ = await make_key(["images:read"])
    response = await client.post("/image/agent-screenshot", json=PROMPT, headers=bearer(key))
    assert_error_envelope(response, 403)
    assert_error_envelope(await client.post("/image/agent-screenshot", json=PROMPT), 401)


@pytest.mark.parametrize(
    ("answer", "plan"),
    [
        (
            '{"url": "https://stripe.com/pricing", "selector": "#pricing", '
            '"elementDescription": "the pricing table"}',
            {
                "url": "https://stripe.com/pricing",
                "selector": "#pricing",
                "elementDescription": "the pricing table",
            },
        ),
        (  # fenced, with prose around it, as chat models like to answer
            'Sure!\n```json\n{"url": " http://example.com/a?b=1 ", "selector": '
            '"main > section.hero:nth-of-type(2)"}\n```',
            {
                "url": "http://example.com/a?b=1",
                "selector": "main > section.hero:nth-of-type(2)",
                "elementDescription": "",
            },
        ),
        (  # JSON mode answers the object itself; no selector: the whole viewport
            {"url": "https://www.python.org/", "selector": None, "elementDescription": "home"},
            {"url": "https://www.python.org/", "selector": None, "elementDescription": "home"},
        ),
        (
            '{"url": "https://a.example/", "selector": "  "}',
            {"url": "https://a.example/", "selector": None, "elementDescription": ""},
        ),
    ],
)
def test_usable_model_answers(answer, plan):
    assert plan_of(answer) == plan


@pytest.mark.parametrize(
    "answer",
    [
        "I cannot browse the web.",
        '{"url": "https://a.example/", "selector": "#x"',  # cut short
        "[1, 2]",
        '{"selector": "#x"}',
        '{"url": "file:///etc/passwd"}',
        '{"url": "javascript:alert(1)"}',
        '{"url": "//stripe.com/pricing"}',
        '{"url": "https:///nohost"}',
        '{"url": "https://user:pw@stripe.com/"}',
        '{"url": "https://stripe.com/a b"}',
        '{"url": "https://stripe.com/' + "a" * 2100 + '"}',
        '{"url": "https://stripe.com/", "selector": "' + "div " * 60 + '"}',
        '{"url": "https://stripe.com/", "selector": "a{color:red}"}',
        '{"url": "https://stripe.com/", "selector": "a;b"}',
        '{"url": "https://stripe.com/", "selector": "a\\nb"}',
        '{"url": "https://stripe.com/", "selector": 5}',
        '{"url": "https://stripe.com/", "elementDescription": ["x"]}',
        {"url": 5},
    ],
)
def test_unusable_model_answers_are_502(answer):
    with pytest.raises(ApiError) as raised:
        plan_of(answer)
    assert (raised.value.status, raised.value.code) == (502, "AI_BAD_ANSWER")

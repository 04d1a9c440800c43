"""The Bedrock Converse stand-in, driven by an unmodified Strands agent."""

import asyncio

import pytest
from botocore.exceptions import ClientError
from strands import Agent, tool
from strands.models import BedrockModel

from emulator.bedrock import NO_TOOLS_ANSWER, WORDINGS
from helpers.backend import LOCAL_CREDENTIALS
from tests.support import REGION, client, error_of

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
LINK = "https://example.com/identities/oauth2/authorize?request_uri=urn%3Aa_b"


@pytest.fixture
def bedrock_environment(emulator_url, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LOCAL_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_BEARER_TOKEN_BEDROCK", raising=False)


@tool
def weather() -> str:
    """Today's weather."""
    return "sunny and 21C"


@tool
def sign_in_link() -> str:
    """Where to sign in."""
    return f"Please open:\n{LINK}\n\nThen come back."


def _answer(model: BedrockModel) -> str:
    """A new agent's answer (no earlier turns); the model (its boto3 session) is shared."""
    agent = Agent(model=model, tools=[sign_in_link], callback_handler=None)
    return str(asyncio.run(agent.invoke_async("Where do I sign in?")))


@pytest.mark.parametrize("streaming", [True, False], ids=["ConverseStream", "Converse"])
def test_the_agent_calls_the_tool_then_answers_with_its_result(bedrock_environment, streaming):
    agent = Agent(
        model=BedrockModel(model_id=MODEL, streaming=streaming),
        tools=[weather],
        callback_handler=None,
    )
    result = asyncio.run(agent.invoke_async("What is the weather?"))
    assert "sunny and 21C" in str(result) and str(result).strip() != "sunny and 21C"
    assert result.stop_reason == "end_turn"
    assert result.metrics.cycle_count == 2
    assert "weather" in result.metrics.tool_metrics
    assert result.metrics.accumulated_usage["totalTokens"] > 0
    roles = [message["role"] for message in agent.messages]
    assert roles == ["user", "assistant", "user", "assistant"]


@pytest.mark.parametrize("streaming", [True, False], ids=["ConverseStream", "Converse"])
def test_without_tools_it_says_it_is_not_a_language_model(bedrock_environment, streaming):
    agent = Agent(
        model=BedrockModel(model_id="any-model-id", streaming=streaming), callback_handler=None
    )
    assert str(agent("Hello")).strip() == NO_TOOLS_ANSWER
    assert "not a language model" in NO_TOOLS_ANSWER


def test_the_answers_take_each_wording_in_turn_each_writing_the_link_its_own_way(
    bedrock_environment,
):
    model = BedrockModel(model_id=MODEL)
    answers = [_answer(model) for _ in WORDINGS]
    written = [{k for k, (_, link) in enumerate(WORDINGS) if link(LINK) in a} for a in answers]
    assert all(len(found) == 1 for found in written), written  # one way per answer
    assert sorted(k for found in written for k in found) == list(range(len(WORDINGS)))
    assert sum(LINK in answer for answer in answers) == len(WORDINGS) - 1  # one escaped it
    assert all("Then come back." in answer for answer in answers)


@pytest.mark.parametrize(
    ("model", "region", "served"),
    [
        (MODEL, "us-east-1", True),
        (MODEL, "eu-west-1", False),  # the quickstart's us. profile outside the US
        ("eu." + MODEL.removeprefix("us."), "eu-west-1", True),
        ("apac." + MODEL.removeprefix("us."), "ap-southeast-1", False),  # no such profile
        ("global." + MODEL.removeprefix("us."), "ap-southeast-1", True),
    ],
)
def test_a_profile_answers_only_in_its_own_regions(emulator_url, model, region, served):
    runtime = client(emulator_url, "bedrock-runtime", region_name=region)
    message = [{"role": "user", "content": [{"text": "Hello"}]}]
    if served:
        answer = runtime.converse(modelId=model, messages=message)
        assert answer["output"]["message"]["content"][0]["text"] == NO_TOOLS_ANSWER
        return
    with pytest.raises(ClientError) as error:
        runtime.converse(modelId=model, messages=message)
    assert error_of(error) == ("ValidationException", 400)
    assert error.value.response["Error"]["Message"] == "The provided model identifier is invalid."

"""Quickstart step 3: what the agent's code must have, checked before anything runs."""

from helpers import agent_code


def test_the_workshop_agent_has_everything():
    assert agent_code.review() == []


def test_an_agent_like_the_quickstarts_is_told_what_it_lacks(tmp_path):
    agent = tmp_path / "agent.py"
    agent.write_text(
        "auth_url_holder = {}\ndef invoke(payload):\n    return agent(payload['prompt'])\n"
    )
    problems = agent_code.review(agent)
    assert len(problems) == 4
    assert any("requires_access_token" in p for p in problems)
    assert any("module-level dict" in p for p in problems)
    assert any("invoke_async" in p for p in problems)
    assert any("requirements.txt" in p for p in problems)


def test_an_agent_without_a_callback_url_is_told_why_it_needs_one(tmp_path):
    agent = tmp_path / "agent.py"
    agent.write_text(
        "@requires_access_token(provider_name='p', auth_flow='USER_FEDERATION')\n"
        "async def token(*, access_token): return access_token\n"
        "async def invoke(payload, context):\n    return await agent.invoke_async('x')\n"
    )
    (tmp_path / "requirements.txt").write_text("bedrock-agentcore\n")
    (problem,) = agent_code.review(agent)
    assert "callback_url" in problem and "return URL" in problem

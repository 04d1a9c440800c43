"""Notebooks 09 and 10 in helpers: the machine client and its M2M provider, the API-key
provider and its rotation, and agent/machine_agent.py deployed on the local runtime."""

import json

import pytest
from botocore.exceptions import ClientError

from helpers import api_keys, cleanup, machine_runtime, machine_to_machine, runtime, workshop
from helpers.cognito import ensure_pools
from helpers.errors import WorkshopError
from helpers.settings import EMULATOR_URL, WORKSHOP_DIR
from tests.support import REGION, client, error_of

READ, WRITE = machine_to_machine.scope("read"), machine_to_machine.scope("write")


def _everything(be, ws, notebook: str = "09_machine_to_machine") -> dict:
    """What 09 and 10 make: pools, machine client, both providers, the deployed agent."""
    pools = ensure_pools(be, ws)
    machine = machine_to_machine.ensure_machine_client(be, ws, pools)
    provider = machine_to_machine.ensure_machine_provider(be, ws, pools, machine)
    api_key = api_keys.ensure_api_key_provider(be, ws)
    role = machine_runtime.ensure_role(be, ws, notebook)
    agent = machine_runtime.deploy(be, ws, role, notebook)
    return {
        "pools": pools,
        "machine": machine,
        "provider": provider,
        "api_key": api_key,
        "agent": agent,
    }


@pytest.fixture(scope="module")
def built(emulator_url, tmp_path_factory):
    """One workshop for the module, built once (a deploy is the slow part)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(EMULATOR_URL, emulator_url)
        patch.setenv(WORKSHOP_DIR, str(tmp_path_factory.mktemp("machine-workshop")))
        be, ws = workshop.resume("local", REGION)
        yield {"be": be, "ws": ws, **_everything(be, ws)}


def test_the_agent_reports_its_m2m_tokens_scope_and_client_never_the_token(built):
    answer = machine_runtime.invoke(built["be"], built["agent"].arn, {"tool": "m2m_scopes"})
    assert answer == {"tool": "m2m_scopes", "scope": READ, "client_id": built["machine"].client_id}


def test_a_scope_the_machine_client_may_not_have_is_refused_as_aws_refuses_it(built):
    payload = {"tool": "m2m_scopes", "scope": "write"}
    answer = machine_runtime.invoke(built["be"], built["agent"].arn, payload)
    assert answer["error"]["Code"] == "ValidationException"
    assert answer["error"]["Message"] == "Error parsing ClientCredentials response"


def test_cognito_itself_grants_read_and_answers_invalid_scope_for_write(built):
    be, pool, machine = built["be"], built["pools"].identity, built["machine"]
    read, write = (machine_to_machine.ask_cognito(be, pool, machine, s) for s in ("read", "write"))
    assert (read["HTTP status"], read["Answer"]) == (200, f"an access token with scope {READ!r}")
    assert (write["HTTP status"], write["Answer"]) == (400, "invalid_scope")


def test_the_machine_client_may_ask_for_read_only(built):
    machine = built["machine"]
    assert machine.allowed == (READ,)
    assert machine.scopes == (READ, WRITE)
    assert machine.flows == ("client_credentials",)


def test_the_agent_picks_up_a_rotated_api_key_without_a_redeploy(built):
    be, ws, arn = built["be"], built["ws"], built["agent"].arn
    before = machine_runtime.invoke(be, arn, {"tool": "api_key_fingerprint"})["fingerprint"]
    assert before == api_keys.recorded_api_key_provider(be, ws).fingerprint
    rotated = api_keys.rotate_api_key(be, ws)
    after = machine_runtime.invoke(be, arn, {"tool": "api_key_fingerprint"})["fingerprint"]
    assert after == rotated.fingerprint != before
    assert rotated.secret_arn == built["api_key"].secret_arn
    assert machine_runtime.recorded_runtime(be, ws).version == built["agent"].version


def test_only_a_fingerprint_of_the_key_is_kept_or_shown(built, emulator_url):
    provider = api_keys.recorded_api_key_provider(built["be"], built["ws"])
    secret = client(emulator_url, "secretsmanager").get_secret_value(SecretId=provider.secret_arn)
    key = json.loads(secret["SecretString"])["api_key_value"]
    assert api_keys.fingerprint(key) == provider.fingerprint
    assert key not in built["ws"].path.read_text()
    assert key not in repr(provider) and key not in provider._repr_html_()
    assert "apiKey" not in provider.fields


def test_the_agent_is_told_both_providers_and_its_role_allows_exactly_them(built):
    be, ws = built["be"], built["ws"]
    assert machine_runtime.environment(ws) == {
        "M2M_PROVIDER_NAME": built["provider"].name,
        "M2M_RESOURCE_SERVER": "external-service",
        "API_KEY_PROVIDER_NAME": built["api_key"].name,
    }
    policy = machine_runtime.ensure_role(be, ws, "09_machine_to_machine").policy
    granted = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    vault = f"arn:aws:bedrock-agentcore:{be.region}:{be.account}:token-vault/default"
    assert f"{vault}/oauth2credentialprovider/{built['provider'].name}" in granted["MachineTokens"]
    assert f"{vault}/apikeycredentialprovider/{built['api_key'].name}" in granted["ApiKeys"]
    assert granted["ProviderSecrets"] == [built["provider"].secret_arn, built["api_key"].secret_arn]
    assert not [s for s in policy["Statement"] if "bedrock:InvokeModel" in s["Action"]]


def test_running_the_steps_again_creates_nothing(built):
    be, ws = built["be"], built["ws"]
    ledger = json.dumps({k: v for k, v in ws.ledger.items() if k != "api_key_provider"})
    again = _everything(be, ws)
    assert again["machine"] == built["machine"] and again["provider"] == built["provider"]
    assert again["agent"].id == built["agent"].id
    assert json.dumps({k: v for k, v in ws.ledger.items() if k != "api_key_provider"}) == ledger


def test_the_runtime_takes_sigv4_and_refuses_a_bearer_token(built):
    be, agent = built["be"], built["agent"]
    config = be.client("bedrock-agentcore-control").get_agent_runtime(agentRuntimeId=agent.id)
    assert "authorizerConfiguration" not in config
    entry_point = config["agentRuntimeArtifact"]["codeConfiguration"]["entryPoint"]
    assert entry_point == ["machine_agent.py"]
    with pytest.raises(WorkshopError, match="403"):
        runtime.invoke(be, agent.arn, "a-bearer-token", "s" * 36, {})


def test_cleanup_removes_every_machine_resource(backend_and_state, emulator_url):
    be, ws = backend_and_state
    made = _everything(be, ws, "10_api_keys")
    cleanup.delete_all(be, ws)
    cognito = client(emulator_url, "cognito-idp")
    control = client(emulator_url, "bedrock-agentcore-control")
    assert not ws.ledger
    assert not [
        p
        for p in control.list_api_key_credential_providers()["credentialProviders"]
        if p["name"] == made["api_key"].name
    ]
    assert cleanup.leftovers(be, ws.suffix) == ([], [])
    with pytest.raises(ClientError) as error:
        cognito.describe_user_pool(UserPoolId=made["pools"].identity.pool_id)
    assert error_of(error)[0] == "ResourceNotFoundException"


def test_a_vanished_machine_client_names_the_notebook_that_makes_it(backend_and_state):
    be, ws = backend_and_state
    pools = ensure_pools(be, ws)
    machine = machine_to_machine.ensure_machine_client(be, ws, pools)
    be.client("cognito-idp").delete_user_pool_client(
        UserPoolId=pools.identity.pool_id, ClientId=machine.client_id
    )
    with pytest.raises(
        WorkshopError, match=f"app client {machine.client_id}.*09_machine_to_machine"
    ):
        workshop.resume("local", REGION)

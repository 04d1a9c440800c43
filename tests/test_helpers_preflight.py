"""00's "before you run on AWS": the model id for a region, and every check of the
preflight passing on the local backend and failing as it would on AWS."""

import json
import uuid

import pytest

from helpers import model, preflight
from tests.support import REGION, client, iam_user

SONNET = model.FOUNDATION_MODEL
EVERYTHING = {"Effect": "Allow", "Action": "*", "Resource": "*"}
# AgentCore regions with no profile of Claude Sonnet 4.5 (AWS offers newer Claude there).
WITHOUT_SONNET_4_5 = ("ap-southeast-5", "ap-southeast-7")


def clients(url: str, region: str = REGION, **credentials: str):
    """What `preflight.run` takes: a boto3 client per service, with these credentials."""
    return lambda service: client(url, service, region_name=region, **credentials)


def statuses(ready: preflight.Preflight) -> dict[str, str]:
    return {check.name: check.status for check in ready.checks}


@pytest.mark.parametrize(
    ("region", "geography"),
    [
        ("us-east-1", "us"),
        ("us-west-2", "us"),
        ("ca-central-1", "us"),
        ("eu-central-1", "eu"),
        ("eu-west-1", "eu"),
        ("ap-northeast-1", "jp"),
        ("ap-southeast-2", "au"),
        ("ap-south-1", "global"),
        ("ap-southeast-1", "global"),
        ("sa-east-1", "global"),
    ],
)
def test_the_model_is_the_profile_of_the_regions_geography(region, geography):
    assert model.model_id(region) == f"{geography}.{SONNET}"


def test_a_model_id_names_its_profile_and_its_foundation_model():
    assert (model.geography(f"jp.{SONNET}"), model.foundation_model(f"jp.{SONNET}")) == (
        "jp",
        SONNET,
    )
    assert (model.geography(SONNET), model.foundation_model(SONNET)) == (None, SONNET)


@pytest.mark.parametrize(
    "region", [r for r in preflight.AGENTCORE_REGIONS if r not in WITHOUT_SONNET_4_5]
)
def test_the_model_of_each_agentcore_region_is_a_profile_there(emulator_url, region):
    bedrock = clients(emulator_url, region)("bedrock")
    profile = bedrock.get_inference_profile(inferenceProfileIdentifier=model.model_id(region))
    assert profile["status"] == "ACTIVE"


def test_every_check_passes_for_the_local_account(emulator_url):
    ready = preflight.run(clients(emulator_url), REGION, model.model_id(REGION))
    assert set(statuses(ready).values()) == {preflight.OK}, ready
    assert ready.problems == []
    assert "root user" in ready.checks[-1].found


def test_every_check_passes_for_a_user_who_may_do_everything(emulator_url):
    arn, key = iam_user(emulator_url, EVERYTHING)
    ready = preflight.run(clients(emulator_url, **key), REGION, model.model_id(REGION))
    assert set(statuses(ready).values()) == {preflight.OK}, ready
    assert ready.checks[0].found.startswith(arn)
    permissions = [c for c in ready.checks if c.name.startswith("Permissions: ")]
    assert len(permissions) == len(preflight.NEEDS)


def test_a_profile_of_another_geography_is_reported_with_the_regions_own(emulator_url):
    ready = preflight.run(clients(emulator_url, "eu-west-1"), "eu-west-1", f"us.{SONNET}")
    assert statuses(ready)["Model: inference profile"] == preflight.FIX
    assert ready.problems == [
        "Model: inference profile: Set MODEL_ID = None: it picks "
        f"eu.{SONNET}, Claude Sonnet 4.5's profile for eu-west-1."
    ]


def test_a_region_without_the_model_asks_for_another_region(emulator_url):
    region = WITHOUT_SONNET_4_5[0]
    ready = preflight.run(clients(emulator_url, region), region, model.model_id(region))
    assert statuses(ready)["Model: inference profile"] == preflight.FIX
    assert statuses(ready)["Model: access"] == preflight.FIX
    assert "choose another REGION" in " ".join(ready.problems)


def test_an_unknown_model_is_reported(emulator_url):
    ready = preflight.run(clients(emulator_url), REGION, "us.anthropic.claude-nothing-v1:0")
    assert statuses(ready)["Model: inference profile"] == preflight.FIX
    assert statuses(ready)["Model: access"] == preflight.FIX


def test_a_region_without_agentcore_is_reported(emulator_url):
    ready = preflight.run(clients(emulator_url, "af-south-1"), "af-south-1", f"global.{SONNET}")
    assert statuses(ready)["Region"] == preflight.FIX
    assert statuses(ready)["Model: inference profile"] == preflight.OK


def test_a_missing_permission_names_what_grants_it(emulator_url):
    _, key = iam_user(
        emulator_url, {"Effect": "Allow", "NotAction": "bedrock-agentcore:*", "Resource": "*"}
    )
    ready = preflight.run(clients(emulator_url, **key), REGION, model.model_id(REGION))
    fixes = {c.name: c for c in ready.checks if c.status == preflight.FIX}
    assert list(fixes) == ["Permissions: AgentCore Runtime and Identity (04-07)"]
    agentcore = fixes["Permissions: AgentCore Runtime and Identity (04-07)"]
    assert "bedrock-agentcore:CreateAgentRuntime" in agentcore.found
    assert "BedrockAgentCoreFullAccess" in agentcore.fix


def test_a_role_session_is_simulated_as_its_role(emulator_url):
    iam = client(emulator_url, "iam")
    trust = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    role = iam.create_role(
        RoleName=f"Learner-{uuid.uuid4().hex[:8]}",
        Path="/teams/",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
    )["Role"]
    denied = {"Effect": "Deny", "Action": "s3:CreateBucket", "Resource": "*"}
    policy = {"Version": "2012-10-17", "Statement": [EVERYTHING, denied]}
    name = role["RoleName"]
    iam.put_role_policy(RoleName=name, PolicyName="own", PolicyDocument=json.dumps(policy))
    session = client(emulator_url, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="me")
    key = {
        "aws_access_key_id": session["Credentials"]["AccessKeyId"],
        "aws_secret_access_key": session["Credentials"]["SecretAccessKey"],
        "aws_session_token": session["Credentials"]["SessionToken"],
    }
    ready = preflight.run(clients(emulator_url, **key), REGION, model.model_id(REGION))
    assert f":assumed-role/{name}/me" in ready.checks[0].found
    assert [c.name for c in ready.checks if c.status != preflight.OK] == [
        "Permissions: the deployment bucket (06)"
    ]


def test_a_refused_simulation_leaves_the_permissions_unchecked(emulator_url):
    _, key = iam_user(emulator_url, {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    ready = preflight.run(clients(emulator_url, **key), REGION, model.model_id(REGION))
    assert statuses(ready)["Permissions"] == preflight.UNCHECKED
    assert "AccessDenied" in ready.checks[-1].found
    assert ready.problems == []


def test_unknown_credentials_are_refused_and_nothing_else_is_asked(emulator_url):
    unknown = {"aws_access_key_id": "AKIA" + "Q" * 16, "aws_secret_access_key": "wrong"}
    ready = preflight.run(clients(emulator_url, **unknown), REGION, model.model_id(REGION))
    assert statuses(ready) == {
        "Credentials": preflight.FIX,
        "Region": preflight.OK,
        "Model and permissions": preflight.UNCHECKED,
    }
    assert "InvalidClientTokenId" in ready.checks[0].found
    assert ready.problems[0].startswith("Credentials: Refresh or replace your credentials")

"""The local backend's answers to the read-only calls 00's preflight makes, where moto has
none: Bedrock's inference profiles, model availability and use-case form; IAM's policy
simulation; STS naming the caller (and refusing a key it never issued)."""

import json

import pytest
from botocore.exceptions import ClientError
from moto.iam.aws_managed_policies import aws_managed_policies_data

from tests.support import client, error_of, iam_user

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
ROLE = "arn:aws:iam::123456789012:role/"
TO_AGENTCORE = [
    {
        "ContextKeyName": "iam:PassedToService",
        "ContextKeyValues": ["bedrock-agentcore.amazonaws.com"],
        "ContextKeyType": "string",
    }
]


def bedrock(url: str, region: str = "us-east-1"):
    return client(url, "bedrock", region_name=region)


def decisions(answer: dict) -> list[str]:
    return [result["EvalDecision"] for result in answer["EvaluationResults"]]


def test_a_profile_answers_in_its_source_region_by_id_and_by_arn(emulator_url):
    control = bedrock(emulator_url, "eu-west-1")
    profile = control.get_inference_profile(inferenceProfileIdentifier=f"eu.{SONNET}")
    assert (profile["status"], profile["type"]) == ("ACTIVE", "SYSTEM_DEFINED")
    arn = profile["inferenceProfileArn"]
    assert arn == f"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.{SONNET}"
    assert control.get_inference_profile(inferenceProfileIdentifier=arn)["inferenceProfileId"] == (
        f"eu.{SONNET}"
    )
    assert {m["modelArn"].split(":")[3] for m in profile["models"]} >= {"eu-west-1"}


def test_the_regions_profiles_are_listed(emulator_url):
    listed = bedrock(emulator_url, "ap-northeast-1").list_inference_profiles()
    ids = [summary["inferenceProfileId"] for summary in listed["inferenceProfileSummaries"]]
    assert ids == [f"jp.{SONNET}", f"global.{SONNET}"]


@pytest.mark.parametrize(
    "identifier",
    [
        f"us.{SONNET}",  # another geography's
        f"apac.{SONNET}",  # Sonnet 4.5 has no Asia Pacific profile
        "eu.anthropic.claude-nothing-v1:0",
        f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.{SONNET}",
    ],
)
def test_a_profile_not_offered_in_the_region_is_not_found(emulator_url, identifier):
    control = bedrock(emulator_url, "eu-west-1")
    with pytest.raises(ClientError) as error:
        control.get_inference_profile(inferenceProfileIdentifier=identifier)
    assert error_of(error) == ("ResourceNotFoundException", 404)


def test_a_malformed_profile_id_is_a_validation_error(emulator_url):
    with pytest.raises(ClientError) as error:
        bedrock(emulator_url, "us-east-1").get_inference_profile(
            inferenceProfileIdentifier="us anthropic/claude"
        )
    assert error_of(error) == ("ValidationException", 400)


def test_the_model_is_available_where_a_profile_serves_it(emulator_url):
    offered = bedrock(emulator_url, "ap-northeast-1")
    answer = offered.get_foundation_model_availability(modelId=SONNET)
    assert answer["regionAvailability"] == answer["entitlementAvailability"] == "AVAILABLE"
    assert answer["agreementAvailability"]["status"] == "AVAILABLE"
    assert answer["authorizationStatus"] == "AUTHORIZED"
    elsewhere = bedrock(emulator_url, "me-south-1")
    answer = elsewhere.get_foundation_model_availability(modelId=SONNET)
    assert answer["regionAvailability"] == "NOT_AVAILABLE"


@pytest.mark.parametrize(
    ("model", "error"),
    [
        ("anthropic.claude-nothing-v1:0", ("ResourceNotFoundException", 404)),
        ("Anthropic Claude", ("ValidationException", 400)),
    ],
)
def test_availability_of_an_unknown_or_malformed_model(emulator_url, model, error):
    with pytest.raises(ClientError) as refused:
        bedrock(emulator_url, "us-east-1").get_foundation_model_availability(modelId=model)
    assert error_of(refused) == error


def test_the_local_account_has_sent_anthropics_use_case_form(emulator_url):
    form = bedrock(emulator_url, "us-east-1").get_use_case_for_model_access()
    assert json.loads(form["formData"])["companyName"]


def test_simulation_follows_allow_deny_and_the_implicit_deny(emulator_url):
    arn, _ = iam_user(
        emulator_url,
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
    )
    answer = client(emulator_url, "iam").simulate_principal_policy(
        PolicySourceArn=arn,
        ActionNames=["s3:CreateBucket", "s3:DeleteBucket", "iam:CreateRole"],
        ResourceArns=["arn:aws:s3:::agentcore-workshop-x"],
    )
    assert decisions(answer) == ["allowed", "explicitDeny", "implicitDeny"]


def test_agentcores_managed_policy_passes_only_agentcore_roles_to_agentcore(emulator_url):
    iam = client(emulator_url, "iam")
    document = json.loads(aws_managed_policies_data)["BedrockAgentCoreFullAccess"]["Document"]
    pass_role = next(s for s in document["Statement"] if "iam:PassRole" in s["Action"])
    arn, _ = iam_user(emulator_url, pass_role)

    def decision(role: str, context: list[dict]) -> str:
        return decisions(
            iam.simulate_principal_policy(
                PolicySourceArn=arn,
                ActionNames=["iam:PassRole"],
                ResourceArns=[ROLE + role],
                ContextEntries=context,
            )
        )[0]

    assert decision("BedrockAgentCoreWorkshop-x", TO_AGENTCORE) == "allowed"
    assert decision("AgentCoreWorkshopRuntime-x", TO_AGENTCORE) == "implicitDeny"
    assert decision("BedrockAgentCoreWorkshop-x", []) == "implicitDeny"  # to any service


def test_a_users_groups_and_attached_policies_count(emulator_url):
    iam = client(emulator_url, "iam")
    arn, _ = iam_user(emulator_url)
    name = arn.rsplit("/", 1)[1]
    iam.create_group(GroupName=f"{name}-group")
    iam.add_user_to_group(GroupName=f"{name}-group", UserName=name)
    logs = {"Effect": "Allow", "Action": "logs:FilterLogEvents", "Resource": "*"}
    iam.put_group_policy(
        GroupName=f"{name}-group",
        PolicyName="logs",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [logs]}),
    )
    cognito = {"Effect": "Allow", "Action": "cognito-idp:*", "Resource": "*"}
    policy = iam.create_policy(
        PolicyName=f"{name}-cognito",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [cognito]}),
    )["Policy"]
    iam.attach_user_policy(UserName=name, PolicyArn=policy["Arn"])
    answer = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["logs:FilterLogEvents", "cognito-idp:CreateUserPool"]
    )
    assert decisions(answer) == ["allowed", "allowed"]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("arn:aws:iam::123456789012:user/nobody-here", ("NoSuchEntity", 404)),
        ("arn:aws:sts::123456789012:assumed-role/Role/session", ("InvalidInput", 400)),
    ],
)
def test_simulating_no_user_or_role_is_refused(emulator_url, source, error):
    with pytest.raises(ClientError) as refused:
        client(emulator_url, "iam").simulate_principal_policy(
            PolicySourceArn=source, ActionNames=["s3:GetObject"]
        )
    assert error_of(refused) == error


def test_simulating_takes_the_permission_to_simulate(emulator_url):
    arn, key = iam_user(emulator_url, {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    with pytest.raises(ClientError) as refused:
        client(emulator_url, "iam", **key).simulate_principal_policy(
            PolicySourceArn=arn, ActionNames=["s3:GetObject"]
        )
    assert error_of(refused) == ("AccessDenied", 403)
    assert "iam:SimulatePrincipalPolicy" in refused.value.response["Error"]["Message"]


def test_sts_names_the_root_a_user_or_refuses_a_key_it_never_issued(emulator_url):
    assert client(emulator_url, "sts").get_caller_identity()["Arn"] == (
        "arn:aws:iam::123456789012:root"
    )
    arn, key = iam_user(emulator_url)
    assert client(emulator_url, "sts", **key).get_caller_identity()["Arn"] == arn
    unknown = {"aws_access_key_id": "AKIA" + "Z" * 16, "aws_secret_access_key": "wrong"}
    with pytest.raises(ClientError) as refused:
        client(emulator_url, "sts", **unknown).get_caller_identity()
    assert error_of(refused) == ("InvalidClientTokenId", 403)

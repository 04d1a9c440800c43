"""Malformed requests to every service the backend serves: a 4xx in AWS's shape, never a 500.

Each case is sent over a raw HTTP connection (paths such as ``/runtimes/../..`` must reach
the backend as written, which ``requests`` would normalize), signed with SigV4 where the
service takes it. A 500 means a handler failed: its traceback is in the backend's log,
whose tail the failure shows.
"""

import base64
import http.client
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import requests
from bedrock_agentcore.runtime.models import SESSION_HEADER
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator.endpoints import HEALTH_PATH
from helpers.backend import LOCAL_CREDENTIALS
from tests.support import REGION, client, code_artifact

ACCOUNT = "123456789012"
MISSING_ARN = f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:runtime/nothing_here-0123456789"
SESSION = "s" * 40
NON_UTF8 = b"\xff\xfe\x80{"
# Bodies that are valid JSON but no object, bytes that are no text, text that is no JSON.
NOT_OBJECTS = {"list": b"[1,2]", "null": b"null", "string": b'"x"', "number": b"1"}
UNREADABLE = {**NOT_OBJECTS, "non-utf8": NON_UTF8, "invalid-json": b'{"a":'}


@dataclass
class Case:
    """One malformed request; ``{arn}``, ``{domain}`` in the path come from ``targets``."""

    method: str
    path: str
    body: bytes = b""
    signed_for: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    shape: str = "json"  # json: __type and message; xml: S3's <Error>; oauth: RFC 6749 §5.2


def _json(value) -> bytes:
    return json.dumps(value).encode()


def _unsigned_jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(_json(value)).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _control(operation_path: str, body: bytes, method: str = "POST") -> Case:
    return Case(method, operation_path, body, "bedrock-agentcore")  # its signing name


def _data(operation_path: str, body: bytes) -> Case:
    return Case("POST", operation_path, body, "bedrock-agentcore")


def _cognito(target: str, body: bytes) -> Case:
    headers = {
        "X-Amz-Target": f"AWSCognitoIdentityProviderService.{target}",
        "Content-Type": "application/x-amz-json-1.1",
    }
    return Case("POST", "/", body, "cognito-idp", headers)


def _converse(body: bytes, operation: str = "converse", model: str = "m") -> Case:
    return Case("POST", f"/model/{model}/{operation}", body, "bedrock")


def _iam(body: bytes) -> Case:
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    return Case("POST", "/", body + b"&Version=2010-05-08", "iam", headers, "xml")


def _invocation(path: str, token: str | None = "x", body: bytes = b"{}") -> Case:
    headers = {SESSION_HEADER: SESSION, "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return Case("POST", path, body, None, headers)


def _token_endpoint(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> Case:
    headers = {"Content-Type": content_type}
    return Case("POST", "/_cognito/{domain}/oauth2/token", body, None, headers, "oauth")


def _cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for name, body in UNREADABLE.items():
        cases[f"control-create-oauth2-provider-{name}"] = _control(
            "/identities/CreateOauth2CredentialProvider", body
        )
        cases[f"control-list-workload-identities-{name}"] = _control(
            "/identities/ListWorkloadIdentities", body
        )
        cases[f"control-create-agent-runtime-{name}"] = _control("/runtimes/", body, "PUT")
        cases[f"data-workload-token-for-jwt-{name}"] = _data(
            "/identities/GetWorkloadAccessTokenForJWT", body
        )
        cases[f"data-resource-oauth2-token-{name}"] = _data("/identities/oauth2/token", body)
        cases[f"data-complete-token-auth-{name}"] = _data(
            "/identities/CompleteResourceTokenAuth", body
        )
        cases[f"cognito-initiate-auth-{name}"] = _cognito("InitiateAuth", body)
        cases[f"cognito-create-user-pool-{name}"] = _cognito("CreateUserPool", body)
        cases[f"converse-{name}"] = _converse(body)
        cases[f"converse-stream-{name}"] = _converse(body, "converse-stream")
        cases[f"invocation-{name}"] = _invocation(
            f"/runtimes/{quote(MISSING_ARN, safe='')}/invocations", body=body
        )
    cases |= {
        "control-list-workload-identities-max-results-string": _control(
            "/identities/ListWorkloadIdentities", _json({"maxResults": "x"})
        ),
        "control-list-workload-identities-next-token-object": _control(
            "/identities/ListWorkloadIdentities", _json({"nextToken": {"a": 1}})
        ),
        "control-create-oauth2-provider-config-list": _control(
            "/identities/CreateOauth2CredentialProvider",
            _json(
                {
                    "name": "fuzz",
                    "credentialProviderVendor": "CustomOauth2",
                    "oauth2ProviderConfigInput": [1, 2],
                }
            ),
        ),
        "control-create-oauth2-provider-vendor-number": _control(
            "/identities/CreateOauth2CredentialProvider",
            _json({"name": "fuzz", "credentialProviderVendor": 7}),
        ),
        "control-create-agent-runtime-artifact-list": _control(
            "/runtimes/",
            _json(
                {
                    "agentRuntimeName": "fuzz",
                    "agentRuntimeArtifact": [],
                    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
                    "networkConfiguration": {"networkMode": "PUBLIC"},
                }
            ),
            "PUT",
        ),
        "control-create-agent-runtime-name-object": _control(
            "/runtimes/", _json({"agentRuntimeName": {"x": 1}}), "PUT"
        ),
        "data-workload-token-for-jwt-token-list": _data(
            "/identities/GetWorkloadAccessTokenForJWT",
            _json({"workloadName": "w", "userToken": ["a"]}),
        ),
        "data-resource-oauth2-token-scopes-object": _data(
            "/identities/oauth2/token",
            _json(
                {
                    "workloadIdentityToken": "x",
                    "resourceCredentialProviderName": "p",
                    "scopes": {"a": 1},
                    "oauth2Flow": "M2M",
                }
            ),
        ),
        "data-complete-token-auth-user-identifier-list": _data(
            "/identities/CompleteResourceTokenAuth",
            _json({"sessionUri": "urn:x", "userIdentifier": [1]}),
        ),
        "cognito-initiate-auth-parameters-list": _cognito(
            "InitiateAuth",
            _json({"ClientId": "c", "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": [1]}),
        ),
        "cognito-create-user-pool-name-number": _cognito("CreateUserPool", _json({"PoolName": 1})),
        "converse-missing-messages": _converse(_json({"system": [{"text": "hi"}]})),
        "converse-messages-string": _converse(_json({"messages": "hi"})),
        "converse-messages-object": _converse(_json({"messages": {"role": "user"}})),
        "converse-message-number": _converse(_json({"messages": [1]})),
        "converse-content-string": _converse(
            _json({"messages": [{"role": "user", "content": "hi"}]})
        ),
        "converse-content-block-list": _converse(
            _json({"messages": [{"role": "user", "content": [["text"]]}]})
        ),
        "converse-tool-config-list": _converse(
            _json(
                {
                    "messages": [{"role": "user", "content": [{"text": "hi"}]}],
                    "toolConfig": [1],
                }
            )
        ),
        "converse-tools-strings": _converse(
            _json(
                {
                    "messages": [{"role": "user", "content": [{"text": "hi"}]}],
                    "toolConfig": {"tools": ["x"]},
                }
            )
        ),
        "converse-tool-result-content-string": _converse(
            _json(
                {
                    "messages": [
                        {
                            "role": "user",
                            "content": [{"toolResult": {"toolUseId": "t", "content": "x"}}],
                        }
                    ]
                }
            )
        ),
        "converse-stream-messages-number": _converse(_json({"messages": 3}), "converse-stream"),
        "converse-get": Case("GET", "/model/m/converse", b"", "bedrock"),
        "invocation-arn-not-arn": _invocation("/runtimes/not-an-arn/invocations"),
        "invocation-arn-empty": _invocation("/runtimes//invocations"),
        "invocation-arn-unencoded": _invocation(f"/runtimes/{MISSING_ARN}/invocations"),
        "invocation-arn-other-region": _invocation(
            "/runtimes/"
            + quote(MISSING_ARN.replace(REGION, "xx-nowhere-9"), safe="")
            + "/invocations"
        ),
        "invocation-arn-percent-garbage": _invocation("/runtimes/%ff%fe%00/invocations"),
        "invocation-missing-runtime": _invocation(
            f"/runtimes/{quote(MISSING_ARN, safe='')}/invocations"
        ),
        "invocation-missing-runtime-no-token": _invocation(
            f"/runtimes/{quote(MISSING_ARN, safe='')}/invocations", token=None
        ),
        "invocation-dot-dot": _invocation("/runtimes/../../invocations"),
        "invocation-dot-dot-bucket": _invocation("/runtimes/../runtimes/../invocations"),
        "control-dot-dot": Case("GET", "/runtimes/../..", b"", "bedrock-agentcore"),
        "data-dot-dot": Case("POST", "/runtimes/../../x/invocations", b"{}", "bedrock-agentcore"),
        "identities-dot-dot": _data("/identities/../../", b"{}"),
        "token-endpoint-garbage-form": _token_endpoint(b"\x00\xff=&&=%zz&grant_type"),
        "token-endpoint-non-utf8": _token_endpoint(NON_UTF8),
        "token-endpoint-json": _token_endpoint(b"[1,2]", "application/json"),
        "token-endpoint-unknown-grant": _token_endpoint(b"grant_type=%ff%fe&client_id=%00"),
        "token-endpoint-repeated": _token_endpoint(
            b"grant_type=authorization_code&grant_type=client_credentials&code=a&code=b"
        ),
        "inference-profiles-max-results-text": Case(
            "GET", "/inference-profiles?maxResults=many", b"", "bedrock"
        ),
        "inference-profile-percent-garbage": Case(
            "GET", "/inference-profiles/%ff%fe%00", b"", "bedrock"
        ),
        "inference-profile-dot-dot": Case("GET", "/inference-profiles/../..", b"", "bedrock"),
        "model-availability-not-a-model-id": Case(
            "GET", "/foundation-model-availability/not%20a%20model", b"", "bedrock"
        ),
        "model-availability-post": Case(
            "POST", "/foundation-model-availability/a.b", b"{}", "bedrock"
        ),
        "simulate-principal-policy-nothing": _iam(b"Action=SimulatePrincipalPolicy"),
        "simulate-principal-policy-no-actions": _iam(
            b"Action=SimulatePrincipalPolicy&PolicySourceArn=arn%3Aaws%3Aiam%3A%3A1%3Auser%2Fx"
        ),
        "simulate-principal-policy-not-an-arn": _iam(
            b"Action=SimulatePrincipalPolicy&PolicySourceArn=%ff%fe"
            b"&ActionNames.member.1=s3%3AGetObject"
        ),
        "simulate-principal-policy-context-without-name": _iam(
            b"Action=SimulatePrincipalPolicy&PolicySourceArn=arn%3Aaws%3Aiam%3A%3A"
            + ACCOUNT.encode()
            + b"%3Aroot&ActionNames.member.1=s3%3AGetObject"
            b"&ContextEntries.member.1.ContextKeyValues.member.1=x"
        ),
        "s3-bucket-configuration-garbage": Case(
            "PUT", f"/fuzz-{uuid.uuid4().hex[:8]}", b"<Create", "s3", {}, "xml"
        ),
    }
    for name, claims in {
        "iss-list": {"iss": ["a", "b"], "sub": "u", "exp": 4102444800},
        "exp-string": {"iss": "x", "sub": "u", "exp": "4102444800"},
        "sub-object": {"iss": "x", "sub": {"a": 1}, "exp": 4102444800},
        "claims-list": ["not", "claims"],
        "claims-null": None,
    }.items():
        token = _unsigned_jwt(claims)
        cases[f"bearer-{name}"] = _invocation("/runtimes/{arn}/invocations", token)
        cases[f"bearer-{name}-missing-runtime"] = _invocation(
            f"/runtimes/{quote(MISSING_ARN, safe='')}/invocations", token
        )
    cases["bearer-not-a-jwt"] = _invocation("/runtimes/{arn}/invocations", "a.b.c.d")
    cases["bearer-empty"] = _invocation("/runtimes/{arn}/invocations", "")
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def targets(emulator_url) -> dict[str, str]:
    """A hosted-UI domain and a runtime behind a JWT authorizer: what some paths name.

    The runtime's code is nowhere, so no agent starts: the authorizer refuses the bearer
    token before an agent would be needed."""
    cognito = client(emulator_url, "cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"fuzz-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    domain = f"fuzz-{uuid.uuid4().hex[:8]}"
    cognito.create_user_pool_domain(UserPoolId=pool, Domain=domain)
    discovery = f"{emulator_url}/{pool}/.well-known/openid-configuration"
    runtime = client(emulator_url, "bedrock-agentcore-control").create_agent_runtime(
        agentRuntimeName=f"fuzz_{uuid.uuid4().hex[:10]}",
        agentRuntimeArtifact=code_artifact({"bucket": "no-such-bucket-fuzz", "prefix": "none.zip"}),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/fuzz",
        networkConfiguration={"networkMode": "PUBLIC"},
        authorizerConfiguration={"customJWTAuthorizer": {"discoveryUrl": discovery}},
    )
    return {"domain": domain, "arn": quote(runtime["agentRuntimeArn"], safe="")}


@pytest.fixture(scope="module")
def backend_log(emulator_url, tmp_path_factory) -> Path | None:
    """The session backend's log (conftest's ``emulator_url`` writes it), for tracebacks."""
    logs = sorted(tmp_path_factory.getbasetemp().glob("emulator*/emulator.log"))
    return logs[0] if logs else None


def _send(url: str, case: Case, path: str) -> tuple[int, dict[str, str], bytes]:
    """The case as sent on the wire, path untouched; signed as boto3 signs it if it is."""
    headers = dict(case.headers)
    if case.signed_for:
        headers.setdefault("Content-Type", "application/json")
        request = AWSRequest(method=case.method, url=url + path, data=case.body, headers=headers)
        credentials = Credentials(
            LOCAL_CREDENTIALS["aws_access_key_id"], LOCAL_CREDENTIALS["aws_secret_access_key"]
        )
        SigV4Auth(credentials, case.signed_for, REGION).add_auth(request)
        headers = dict(request.headers)
    location = urlsplit(url)
    connection = http.client.HTTPConnection(location.hostname, location.port, timeout=20)
    try:
        connection.request(case.method, path, body=case.body or None, headers=headers)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def _assert_error_shape(case: Case, headers: dict[str, str], body: bytes) -> None:
    if case.shape == "xml":
        assert body.lstrip().startswith(b"<"), body
        assert b"<Code>" in body and b"<Message>" in body, body
        return
    document = json.loads(body)
    assert isinstance(document, dict), body
    if case.shape == "oauth":
        assert isinstance(document.get("error"), str), body
        return
    assert isinstance(document.get("__type"), str) and document["__type"], body
    message = document.get("message", document.get("Message"))
    assert isinstance(message, str), body


@pytest.mark.parametrize("name", CASES)
def test_a_malformed_request_is_a_4xx_in_awss_shape(emulator_url, targets, backend_log, name):
    case = CASES[name]
    path = case.path.format(**targets) if "{" in case.path else case.path
    status, headers, body = _send(emulator_url, case, path)
    log_tail = backend_log.read_text()[-3000:] if backend_log and status >= 500 else ""
    assert 400 <= status < 500, f"{status} {body[:500]!r}\n{log_tail}"
    _assert_error_shape(case, headers, body)
    assert requests.get(emulator_url + HEALTH_PATH, timeout=5).ok

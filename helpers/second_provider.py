"""Notebook 11: one user, two external services, two providers, two consents.

The second service is a calendar: a Cognito pool of its own with its own user, made like
01's identity pool, and a `CustomOauth2` credential provider for it. A third small agent
(`agent/two_services_agent.py`) asks for either token; it runs on a runtime of its own
behind 06's JWT authorizer, so you call it with your bearer token, as in 07. Being a new
agent, it has a new workload identity: the vault holds nothing for it yet, and you
consent to each service once, as yourself.
"""

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.display import Markdown

from helpers import (
    authorizer,
    cognito,
    consent,
    credential_provider,
    execution_role,
    packaging,
    runtime,
    settings,
    widgets,
)
from helpers import workload_identity as workloads
from helpers.backend import Backend
from helpers.cognito import CognitoSetup, Pool
from helpers.consent import SessionBinding
from helpers.credential_provider import CredentialProvider
from helpers.display import Note, Table, table
from helpers.errors import WorkshopError, explain
from helpers.execution_role import OAUTH2, ExecutionRole
from helpers.paths import AGENT_DIR
from helpers.runtime import Runtime
from helpers.state import Kind, WorkshopState

ENTRY_POINT = "two_services_agent.py"
AGENT_FILE = AGENT_DIR / ENTRY_POINT
CALENDAR = "calendar"  # the pool's ledger keys: calendar_pool, calendar_client, …
NOTEBOOK = "11_second_provider"
PROVIDER_KEY, VENDOR_KEY = "calendar_provider", "vendor_provider"
ROLE_KEY, RUNTIME_KEY = "services_execution_role", "services_runtime"
POLICY_NAME = "AgentCoreTwoServicesAgent"
# What agent/two_services_agent.py reads from its environment (set at deploy time).
CALENDAR_PROVIDER = "CALENDAR_PROVIDER_NAME"


def ensure_calendar(backend: Backend, state: WorkshopState) -> Pool:
    """The calendar's pool, hosted UI, confidential client and your user there."""
    return cognito.ensure_service_pool(backend, state, CALENDAR, "Calendar", "calendaruser")


def ensure_calendar_provider(
    backend: Backend, state: WorkshopState, calendar: Pool
) -> CredentialProvider:
    """A second `CustomOauth2` provider, for the calendar, its callback registered there."""
    name = f"CalendarProvider-{state.suffix}"
    provider = credential_provider.ensure_custom_provider(
        backend, state, PROVIDER_KEY, name, calendar.discovery_url, calendar, NOTEBOOK
    )
    credential_provider.register_callback_url(backend, calendar, provider.callback_url)
    return provider


def providers(backend: Backend, state: WorkshopState) -> Table:
    """The workshop's OAuth2 credential providers as AgentCore Identity lists them."""
    with explain("Listing the credential providers"):
        pages = backend.client("bedrock-agentcore-control").get_paginator(
            "list_oauth2_credential_providers"
        )
        found = [p for page in pages.paginate() for p in page["credentialProviders"]]
    return table(
        [
            {"Name": p["name"], "Vendor": p["credentialProviderVendor"]}
            for p in found
            if p["name"].endswith(state.suffix)
        ]
    )


def runtime_name(state: WorkshopState) -> str:
    return f"two_services_agent_{state.suffix}"


def environment(state: WorkshopState, providers: list[CredentialProvider]) -> dict[str, str]:
    external, calendar = providers
    return {
        settings.AGENT_CREDENTIAL_PROVIDER: external.name,
        CALENDAR_PROVIDER: calendar.name,
        settings.AGENT_CALLBACK_URL: workloads.session_binding_url(state),
    }


def _policy(
    backend: Backend, state: WorkshopState, providers: list[CredentialProvider]
) -> dict[str, Any]:
    """Least privilege: logs, workload access tokens for this runtime, these two providers."""
    identities = execution_role.workload_identities(backend, runtime_name(state))
    names = [p.name for p in providers]
    return {
        "Version": "2012-10-17",
        "Statement": [
            *execution_role.logs_statements(backend),
            execution_role.workload_access_tokens(identities),
            {
                "Sid": "UserTokens",
                "Effect": "Allow",
                "Action": ["bedrock-agentcore:GetResourceOauth2Token"],
                "Resource": identities + execution_role.token_vault(backend, OAUTH2, names),
            },
            {
                "Sid": "ProviderSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": [p.secret_arn for p in providers],
            },
        ],
    }


def ensure_role(
    backend: Backend, state: WorkshopState, providers: list[CredentialProvider], notebook: str
) -> ExecutionRole:
    return execution_role.ensure_role(
        backend,
        state,
        key=ROLE_KEY,
        name=execution_role.role_name("Services", state),
        description="Runs the AgentCore Identity workshop's two-services agent",
        policy_name=POLICY_NAME,
        policy=_policy(backend, state, providers),
        notebook=notebook,
    )


def deploy(
    backend: Backend,
    state: WorkshopState,
    role: ExecutionRole,
    pools: CognitoSetup,
    providers: list[CredentialProvider],
    notebook: str,
    on_progress: Callable[[float], None] | None = None,
) -> Runtime:
    """Zip, upload, create or update the runtime (06's authorizer), wait for READY, and
    allow the session-binding page as its workload identity's return URL."""
    name = runtime_name(state)
    code = packaging.upload(backend, state, packaging.package(backend), name)
    deployed = runtime.ensure_runtime(
        backend,
        state,
        role_arn=role.arn,
        code=code,
        authorizer=authorizer.jwt_authorizer(pools.runtime),
        environment=environment(state, providers),
        key=RUNTIME_KEY,
        name=name,
        entry_point=ENTRY_POINT,
        notebook=notebook,
    )
    ready = runtime.wait_until_ready(backend, deployed.id, on_progress)
    binding_url = workloads.session_binding_url(state)
    workloads.set_return_urls(backend, ready.workload_identity, add=(binding_url,))
    return ready


@dataclass
class Conversation:
    """Your runtime session with the two-services agent, and its session-binding page."""

    backend: Backend
    agent: Runtime
    bearer: str
    session_id: str
    binding_url: str
    binding: SessionBinding | None = None

    def ask(self, service: str, consent_again: bool = False) -> dict[str, Any]:
        payload = {"service": service, "consent_again": consent_again}
        return runtime.invoke(self.backend, self.agent.arn, self.bearer, self.session_id, payload)

    def consent(self, answer: dict[str, Any], user: Pool, service: str, interactive: bool) -> Any:
        """Consent to the link in ``answer``, if any, as ``user``: a fresh session-binding
        page, the card and panel (or the sign-in done in code), then the wait."""
        self.binding = consent.serve_session_binding(self.backend, self.binding_url, self.bearer)
        return widgets.consent_and_wait(
            self.backend,
            answer,
            self.binding,
            lambda: self.ask(answer["service"]),
            user,
            interactive,
            service,
        )

    def stop(self) -> None:
        if self.binding is not None:
            self.binding.stop()


def start(backend: Backend, state: WorkshopState, agent: Runtime, caller: Pool) -> Conversation:
    """A new session with the agent, as ``caller`` (the runtime pool's user)."""
    bearer = cognito.bearer_token(backend, caller)
    binding_url = workloads.session_binding_url(state)
    return Conversation(backend, agent, bearer, runtime.new_session_id(), binding_url)


def tokens(answers: list[dict[str, Any]]) -> Table:
    """What the agent got from each service: whose token and its fingerprint, never it."""
    return table(
        [
            {
                "Service": a["service"],
                "External user": a.get("external_user", "(consent needed)"),
                "Token fingerprint": a.get("token_fingerprint", ""),
            }
            for a in answers
        ]
    )


def who_holds_what(caller: str, answers: list[dict[str, Any]], providers: list[str]) -> Markdown:
    """One agent, one user, one vault entry per provider."""
    lines = [
        "flowchart LR",
        f'    you["you: {caller}"] -->|bearer token| agent[[the two-services agent]]',
    ]
    for number, (answer, provider) in enumerate(zip(answers, providers, strict=True)):
        user = answer.get("external_user", "(no token)")
        lines.append(
            f'    agent -->|"vault: (agent, {caller}, {provider})"| token{number}'
            f'["{answer["service"]}: token of {user}"]'
        )
    return Markdown("```mermaid\n" + "\n".join(lines) + "\n```")


def vendor_request(
    backend: Backend, state: WorkshopState, vendor: str, client_id: str, client_secret: str
) -> dict[str, Any]:
    """CreateOauth2CredentialProvider for a vendor AgentCore Identity knows, e.g. Google.

    A known vendor needs no discovery URL: AgentCore Identity has its endpoints. Its
    config has a key of its own (``googleOauth2ProviderConfig``), from botocore's model.
    """
    model = backend.client("bedrock-agentcore-control").meta.service_model
    configs = model.shape_for("Oauth2ProviderConfigInput").members
    known = {
        name: key
        for name in model.shape_for("CredentialProviderVendorType").enum
        if (key := name[:1].lower() + name[1:] + "ProviderConfig") in configs
        and "oauthDiscovery" not in configs[key].members  # CustomOauth2 needs one
    }
    if vendor not in known:
        raise WorkshopError(
            f"VENDOR {vendor!r} has no config of its own; try one of {sorted(known)}."
        )
    key = known[vendor]
    return {
        "name": f"{vendor.removesuffix('Oauth2')}Provider-{state.suffix}",
        "credentialProviderVendor": vendor,
        "oauth2ProviderConfigInput": {
            key: {
                "clientId": client_id or "<your client id>",
                "clientSecret": client_secret or "<your client secret>",
            }
        },
    }


def vendor_secret(client_id: str, interactive: bool) -> str:
    """Your vendor client's secret, from the environment or asked for: a notebook saves
    what is typed into its cells, so it never goes there."""
    secret = os.environ.get(settings.VENDOR_CLIENT_SECRET, "")
    if not secret and client_id and interactive:
        secret = getpass.getpass(f"Client secret of {client_id} (not saved): ")
    return secret


def ensure_vendor_provider(
    backend: Backend, state: WorkshopState, request: dict[str, Any], have_client: bool
) -> Table | Note:
    """The vendor's provider, created or updated (for a changed secret), or why not."""
    if not have_client:
        return Note(
            f"Skipped: set VENDOR_CLIENT_ID (an OAuth client you made at the vendor) in the "
            f"parameters cell, and its secret in {settings.VENDOR_CLIENT_SECRET}, to create "
            "this provider."
        )
    control = backend.client("bedrock-agentcore-control")
    recorded = state.get(VENDOR_KEY)
    if recorded is not None and recorded["name"] != request["name"]:
        raise WorkshopError(
            f"The workshop already has the vendor provider {recorded['name']}: run 13_cleanup "
            "first to try another vendor."
        )
    with explain(f"Creating or updating the credential provider {request['name']}"):
        if recorded is None:
            answer = control.create_oauth2_credential_provider(**request)
            state.record(VENDOR_KEY, Kind.CREDENTIAL_PROVIDER, name=request["name"])
        else:
            answer = control.update_oauth2_credential_provider(**request)
    return table(
        {
            "Name": answer["name"],
            "Vendor": request["credentialProviderVendor"],
            "ARN": answer["credentialProviderArn"],
            "Client secret (stored at)": answer["clientSecretArn"]["secretArn"],
            "Redirect URI to register at the vendor": answer.get("callbackUrl"),
        }
    )

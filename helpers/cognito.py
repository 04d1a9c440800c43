"""Quickstart step 1: the two Cognito user pools, as `agentcore identity setup-cognito` makes them.

* The **runtime pool** authenticates the people who call the agent (inbound): its
  public client signs users in with a password and hands out the bearer token
  AgentCore Runtime checks.
* The **identity pool** stands in for the external service the agent acts at on the
  user's behalf (outbound): a hosted-UI domain and a confidential client with the
  authorization-code grant, which AgentCore Identity's credential provider will use.
"""

import base64
import dataclasses
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

from helpers.backend import Backend
from helpers.display import Shown, Table, shown, table
from helpers.errors import WorkshopError, explain
from helpers.state import Kind, WorkshopState
from helpers.waiting import wait_until

# Symbols Cognito's policy counts that no shell, xargs or dotenv treats specially: the
# password can be pasted from the env file as it stands, and the quickstart's
# `export $(grep -v '^#' .agentcore_identity_user.env | xargs)` reads it unchanged.
PASSWORD_SYMBOLS = "%+,-.:@_"


@dataclass(frozen=True, repr=False)
class Pool(Shown):
    pool_id: str = shown("Pool ID")
    client_id: str = shown("Client ID")
    client_secret: str | None = shown("Client secret")
    domain: str | None = shown("Hosted-UI domain")
    username: str = shown("User")
    password: str = shown("Password")
    discovery_url: str


@dataclass(frozen=True, repr=False)
class CognitoSetup(Shown):
    runtime: Pool
    identity: Pool

    def table(self) -> Table:
        """One row per pool (the secret and the passwords masked)."""
        return table(
            [
                {"Pool": "runtime (inbound)", **self.runtime.row()},
                {"Pool": "identity (outbound)", **self.identity.row()},
            ]
        )

    def env_values(self) -> dict[str, str]:
        """The eleven variables of the quickstart's ``.agentcore_identity_user.env``."""
        values = {}
        for prefix, pool in (("RUNTIME", self.runtime), ("IDENTITY", self.identity)):
            values |= {
                f"{prefix}_POOL_ID": pool.pool_id,
                f"{prefix}_CLIENT_ID": pool.client_id,
                f"{prefix}_DISCOVERY_URL": pool.discovery_url,
                f"{prefix}_USERNAME": pool.username,
                f"{prefix}_PASSWORD": pool.password,
            }
            if pool.client_secret:
                values[f"{prefix}_CLIENT_SECRET"] = pool.client_secret
        return values


def generate_password(length: int = 16) -> str:
    """A password Cognito's default policy accepts: upper, lower, digit and symbol."""
    alphabet = string.ascii_letters + string.digits + PASSWORD_SYMBOLS
    required = [string.ascii_uppercase, string.ascii_lowercase, string.digits, PASSWORD_SYMBOLS]
    chars = [secrets.choice(group) for group in required]
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def discovery_url(backend: Backend, pool_id: str) -> str:
    """The pool's OpenID discovery URL, from the endpoint boto3 uses (AWS or local)."""
    endpoint = backend.client("cognito-idp").meta.endpoint_url.rstrip("/")
    return f"{endpoint}/{pool_id}/.well-known/openid-configuration"


def agentcore_callback_url(backend: Backend) -> str:
    """AgentCore Identity's generic OAuth2 callback, which setup-cognito registers."""
    endpoint = backend.client("bedrock-agentcore").meta.endpoint_url.rstrip("/")
    return f"{endpoint}/identities/oauth2/callback"


@dataclass(frozen=True)
class _Role:
    name: str
    title: str
    user_prefix: str
    client_config: dict
    hosted_ui: bool = False


def ensure_pools(backend: Backend, state: WorkshopState) -> CognitoSetup:
    """Create both pools, or reuse what the state recorded; safe to run again."""
    runtime = _Role(
        "runtime",
        "Runtime",
        "testuser",
        {
            "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        },
    )
    identity = _service_role(backend, "identity", "Identity", "externaluser")
    return CognitoSetup(_pool(backend, state, runtime), _pool(backend, state, identity))


def _service_role(backend: Backend, name: str, title: str, user_prefix: str) -> _Role:
    """An external service's pool: a hosted UI and a confidential authorization-code client."""
    return _Role(
        name,
        title,
        user_prefix,
        {
            "GenerateSecret": True,
            "CallbackURLs": [agentcore_callback_url(backend)],
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "profile", "email"],
            "AllowedOAuthFlowsUserPoolClient": True,
            "SupportedIdentityProviders": ["COGNITO"],
        },
        hosted_ui=True,
    )


def ensure_service_pool(
    backend: Backend, state: WorkshopState, name: str, title: str, user_prefix: str
) -> Pool:
    """One more external service, made like the identity pool (ledger keys ``name_*``)."""
    return _pool(backend, state, _service_role(backend, name, title, user_prefix))


def _pool(backend: Backend, state: WorkshopState, role: _Role) -> Pool:
    cognito = backend.client("cognito-idp")
    suffix = state.suffix

    def create_pool() -> dict:
        created = cognito.create_user_pool(
            PoolName=f"AgentCore{role.title}Pool-{suffix}",
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        )
        return {"id": created["UserPool"]["Id"], "region": backend.region}

    pool_id = _ensure(state, f"{role.name}_pool", Kind.USER_POOL, create_pool)["id"]

    domain = f"agentcore-{role.name}-{suffix}" if role.hosted_ui else None
    if domain:

        def create_domain() -> dict:
            cognito.create_user_pool_domain(Domain=domain, UserPoolId=pool_id)
            return {"domain": domain, "pool_id": pool_id}

        _ensure(state, f"{role.name}_domain", Kind.USER_POOL_DOMAIN, create_domain)
        _wait_for_domain(cognito, domain)

    def create_client() -> dict:
        created = cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName=f"{role.title}Client-{suffix}", **role.client_config
        )["UserPoolClient"]
        return {
            "id": created["ClientId"],
            "pool_id": pool_id,
            "secret": created.get("ClientSecret"),
        }

    _ensure(state, f"{role.name}_client", Kind.USER_POOL_CLIENT, create_client)
    _ensure_user(cognito, state, f"{role.name}_user", pool_id, role.user_prefix + suffix)
    return _recorded_pool(backend, state, role.name)


def _recorded_pool(backend: Backend, state: WorkshopState, role: str) -> Pool:
    pool, client, user = (state.get(f"{role}_{part}") for part in ("pool", "client", "user"))
    if not (pool and client and user and user["password"]):
        raise WorkshopError(
            f"The workshop state has no complete {role} pool: run 01_setup_cognito first."
        )
    domain = state.get(f"{role}_domain")
    return Pool(
        pool_id=pool["id"],
        client_id=client["id"],
        client_secret=client["secret"],
        discovery_url=discovery_url(backend, pool["id"]),
        username=user["username"],
        password=user["password"],
        domain=domain["domain"] if domain else None,
    )


def recorded_pools(backend: Backend, state: WorkshopState) -> CognitoSetup:
    """The pools 01_setup_cognito created, read from the workshop state (no AWS calls)."""
    return CognitoSetup(
        _recorded_pool(backend, state, "runtime"), _recorded_pool(backend, state, "identity")
    )


def _ensure(state: WorkshopState, key: str, kind: Kind, create) -> dict:
    """The resource the state recorded under ``key``, or a new one, recorded at once."""
    if (entry := state.get(key)) is not None:
        return entry
    with explain(f"Creating the {key.replace('_', ' ')} ({kind})"):
        attributes = create()
    return state.record(key, kind, **attributes)


def _ensure_user(cognito, state: WorkshopState, key: str, pool_id: str, username: str) -> None:
    """The pool's user with a permanent password (no change-password challenge)."""

    def create_user() -> dict:
        cognito.admin_create_user(UserPoolId=pool_id, Username=username)
        return {"pool_id": pool_id, "username": username, "password": None}

    user = _ensure(state, key, Kind.USER, create_user)
    if user["password"] is None:
        password = generate_password()
        with explain(f"Setting {username}'s password"):
            cognito.admin_set_user_password(
                UserPoolId=pool_id, Username=username, Password=password, Permanent=True
            )
        state.record(key, Kind.USER, pool_id=pool_id, username=username, password=password)


def ensure_user(
    backend: Backend, state: WorkshopState, key: str, pool: Pool, username: str
) -> Pool:
    """Another user of ``pool`` (recorded under ``key``): ``pool`` as that user signs in."""
    _ensure_user(backend.client("cognito-idp"), state, key, pool.pool_id, username)
    entry = state.get(key)
    return dataclasses.replace(pool, username=entry["username"], password=entry["password"])


def _wait_for_domain(cognito, prefix: str) -> None:
    """A new prefix domain can take up to a minute to become ACTIVE on AWS."""

    def active() -> bool | None:
        with explain(f"Checking the hosted-UI domain {prefix}"):
            status = cognito.describe_user_pool_domain(Domain=prefix)["DomainDescription"]
        return True if status.get("Status") == "ACTIVE" else None

    wait_until(active, f"the hosted-UI domain {prefix} to become ACTIVE", timeout=180)


def secret_hash(username: str, client_id: str, client_secret: str) -> str:
    """Cognito's SECRET_HASH: proves the caller knows the app client's secret."""
    digest = hmac.new(
        client_secret.encode(), (username + client_id).encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def sign_in(backend: Backend, pool: Pool) -> dict[str, str]:
    """USER_PASSWORD_AUTH: the user's access, ID and refresh tokens."""
    parameters = {"USERNAME": pool.username, "PASSWORD": pool.password}
    if pool.client_secret:
        parameters["SECRET_HASH"] = secret_hash(pool.username, pool.client_id, pool.client_secret)
    with explain(f"Signing in {pool.username}"):
        result = backend.client("cognito-idp").initiate_auth(
            ClientId=pool.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=parameters
        )
    if "AuthenticationResult" not in result:
        raise WorkshopError(
            f"Cognito asked {pool.username} for {result.get('ChallengeName')} instead of "
            "signing in: the password is not permanent. Re-run 01_setup_cognito."
        )
    return result["AuthenticationResult"]


def bearer_token(backend: Backend, pool: Pool) -> str:
    """The user's access token (what `agentcore identity get-cognito-inbound-token` prints)."""
    return sign_in(backend, pool)["AccessToken"]

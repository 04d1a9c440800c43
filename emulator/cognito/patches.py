"""The patches to moto's Cognito model, each guarded, and what would let each go.

moto signs every pool's tokens with one RSA key that ships inside moto (anyone can forge
them), names an AWS issuer that the local discovery URL cannot match, lets any client use
any auth flow without its secret, and merges a client update where Cognito replaces the
whole configuration. The workshop's troubleshooting depends on all of these.

Each patch, and the upstream moto change that would let it go:

- ``jwk`` as moto's Cognito model sees it: a signing key per pool, generated where
  ``CognitoIdpUserPool.__init__`` imports the one in ``jwks-private.json`` (an import that
  costs three times a new key: that JWK lacks its primes). Gone when moto generates a key
  per user pool.
- ``CognitoIdpUserPool.create_jwt``: the issuer is this server (the discovery URL's
  base) and the header names the pool's ``kid``. Gone when moto's issuer base URL can be
  configured and its tokens name their key.
- ``CognitoIdpBackend.initiate_auth``: ``ExplicitAuthFlows`` and ``SECRET_HASH`` are
  enforced on USER_PASSWORD_AUTH. Gone when moto enforces both, as Cognito does.
- ``CognitoIdpBackend.update_user_pool_client``: an update replaces the configuration.
  Gone when moto resets what UpdateUserPoolClient omits instead of merging.
- ``DeleteResourceServer`` (added, backend and response): moto 5.2 creates, describes
  and lists resource servers but cannot delete one. Gone when moto implements
  DeleteResourceServer; `install` leaves moto's own alone if it has one.

moto's internals are no API: `install` first checks that every function patched or
called here still has the parameters this module passes, and refuses to serve (naming
the function and the installed moto version) if one changed. pyproject.toml bounds moto
below the next minor version, so an upgrade is a deliberate change that runs this check
and the contract tests.
"""

import inspect
from collections.abc import Callable
from importlib.metadata import version
from types import SimpleNamespace

from joserfc import jwt
from joserfc.jwk import RSAKey
from moto.cognitoidp import models, responses, utils
from moto.cognitoidp.exceptions import InvalidParameterException, NotAuthorizedError
from moto.core.responses import ActionResult, EmptyResult

from emulator.cognito.discovery import issuer

# Cognito's defaults for a client created without ExplicitAuthFlows.
DEFAULT_AUTH_FLOWS = ("ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")

# Every function of moto.cognitoidp this package patches or calls, with its parameters.
EXPECTED_PARAMETERS: dict[str, tuple[str, ...]] = {
    "models.CognitoIdpUserPool.create_jwt": (
        "self",
        "client_id",
        "username",
        "token_use",
        "expires_in",
        "extra_data",
    ),
    "models.CognitoIdpUserPool._get_user": ("self", "username"),
    "models.CognitoIdpUserPool.create_refresh_token": ("self", "client_id", "username"),
    "models.CognitoIdpUserPool.create_id_token": ("self", "client_id", "username", "origin_jti"),
    "models.CognitoIdpBackend.initiate_auth": (
        "self",
        "client_id",
        "auth_flow",
        "auth_parameters",
    ),
    "models.CognitoIdpBackend.update_user_pool_client": (
        "self",
        "user_pool_id",
        "client_id",
        "extended_config",
    ),
    "models.CognitoIdpUserPoolClient.__init__": (
        "self",
        "user_pool_id",
        "generate_secret",
        "extended_config",
    ),
    "utils.check_secret_hash": ("app_client_secret", "app_client_id", "username", "secret_hash"),
    "models.CognitoIdpBackend.describe_resource_server": ("self", "user_pool_id", "identifier"),
}


class IncompatibleMoto(RuntimeError):
    """moto changed a function the local backend patches or calls: serving would be wrong."""


_originals: dict[tuple[object, str], Callable] = {}


def _function(name: str) -> Callable:
    """``models.CognitoIdpBackend.initiate_auth`` → moto's own function, even once patched."""
    module, *path, attribute = name.split(".")
    owner = {"models": models, "utils": utils}[module]
    for part in path:
        owner = getattr(owner, part)
    return _originals.get((owner, attribute), getattr(owner, attribute))


# Where moto's pool takes its key from: the call `_key_per_pool` answers.
KEY_IMPORT = "jwk.RSAKey.import_key("


def check_moto(expected: dict[str, tuple[str, ...]] = EXPECTED_PARAMETERS) -> None:
    """Refuse a moto whose patched or called functions no longer take what we pass."""
    if KEY_IMPORT not in inspect.getsource(models.CognitoIdpUserPool.__init__):
        raise IncompatibleMoto(
            f"moto {version('moto')} changed moto.cognitoidp.models.CognitoIdpUserPool."
            f"__init__: it no longer calls {KEY_IMPORT}), where the local backend gives each "
            "pool a key of its own. Install the moto version pyproject.toml pins, or update "
            "emulator/cognito/patches.py."
        )
    for name, parameters in expected.items():
        found = tuple(inspect.signature(_function(name)).parameters)
        if found != parameters:
            raise IncompatibleMoto(
                f"moto {version('moto')} changed moto.cognitoidp.{name}: it takes "
                f"({', '.join(found)}), the local backend's patch expects "
                f"({', '.join(parameters)}). Install the moto version pyproject.toml pins, "
                "or update emulator/cognito/patches.py."
            )


def _new_pool_key(_motos_shared_key: object) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)


def _key_per_pool(_joserfc_jwk):
    """What moto's Cognito model takes for ``joserfc.jwk``: a pool created imports a new
    key of its own, not moto's shared one."""
    return SimpleNamespace(RSAKey=SimpleNamespace(import_key=_new_pool_key))


def _create_jwt(original):
    def create_jwt(self, client_id, username, token_use, expires_in=3600, extra_data=None):
        # moto applies extra_data after its own claims, so this overrides its AWS issuer.
        extra = {**(extra_data or {}), "iss": issuer(self.id)}
        token, expires = original(
            self,
            client_id=client_id,
            username=username,
            token_use=token_use,
            expires_in=expires_in,
            extra_data=extra,
        )
        # moto hard-codes kid "dummy"; re-sign so the header names this pool's key.
        claims = jwt.decode(token, self.json_web_key).claims
        header = {"alg": "RS256", "kid": self.json_web_key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self.json_web_key), expires

    return create_jwt


def _initiate_auth(original):
    def initiate_auth(self, client_id, auth_flow, auth_parameters):
        if auth_flow == "USER_PASSWORD_AUTH":
            for pool in list(self.user_pools.values()):
                if client_id in pool.clients:
                    _check_user_password_auth(pool.clients[client_id], auth_parameters or {})
        return original(
            self, client_id=client_id, auth_flow=auth_flow, auth_parameters=auth_parameters
        )

    return initiate_auth


def _update_user_pool_client(original):
    def update_user_pool_client(self, user_pool_id, client_id, extended_config):
        # moto's checks, nothing merged:
        client = original(self, user_pool_id=user_pool_id, client_id=client_id, extended_config={})
        # Cognito replaces the configuration: whatever the update omits returns to its default.
        defaults = models.CognitoIdpUserPoolClient(
            user_pool_id=user_pool_id, generate_secret=False, extended_config=None
        ).extended_config
        name = client.extended_config.get("ClientName")
        client.extended_config = {**defaults, "ClientName": name, **extended_config}
        return client

    return update_user_pool_client


def _check_user_password_auth(client: models.CognitoIdpUserPoolClient, params: dict) -> None:
    flows = client.extended_config.get("ExplicitAuthFlows") or DEFAULT_AUTH_FLOWS
    if not {"ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH"} & set(flows):
        raise InvalidParameterException("USER_PASSWORD_AUTH flow not enabled for this client")
    if client.generate_secret and params.get("SECRET_HASH") is None:
        # Cognito's words for a missing hash (aws-amplify/amplify-android#2504); a wrong
        # one is "Unable to verify secret hash".
        raise NotAuthorizedError(
            f"Client {client.id} is configured with secret but SECRET_HASH was not received"
        )
    if client.generate_secret and not utils.check_secret_hash(
        app_client_secret=client.secret,
        app_client_id=client.id,
        username=params.get("USERNAME", ""),
        secret_hash=params.get("SECRET_HASH"),
    ):
        raise NotAuthorizedError(f"Unable to verify secret hash for client {client.id}")


def _delete_resource_server(self, user_pool_id: str, identifier: str) -> None:
    """Cognito's DeleteResourceServer: ResourceNotFoundException for an unknown one."""
    self.describe_resource_server(user_pool_id=user_pool_id, identifier=identifier)
    self.user_pools[user_pool_id].resource_servers.pop(identifier, None)


def _delete_resource_server_response(self) -> ActionResult:
    self.backend.delete_resource_server(
        self._get_param("UserPoolId"), self._get_param("Identifier")
    )
    return EmptyResult()


# Operations moto lacks, added where moto would have them (owner, name, function).
ADDITIONS = (
    (models.CognitoIdpBackend, "delete_resource_server", _delete_resource_server),
    (responses.CognitoIdpResponse, "delete_resource_server", _delete_resource_server_response),
)

PATCHES = (
    (models, "jwk", _key_per_pool),
    (models.CognitoIdpUserPool, "create_jwt", _create_jwt),
    (models.CognitoIdpBackend, "initiate_auth", _initiate_auth),
    (models.CognitoIdpBackend, "update_user_pool_client", _update_user_pool_client),
)


def install() -> None:
    """Check moto, then patch it for this process; a second call changes nothing."""
    check_moto()
    for owner, name, wrap in PATCHES:
        if (owner, name) not in _originals:
            _originals[owner, name] = getattr(owner, name)
            setattr(owner, name, wrap(_originals[owner, name]))
    for owner, name, function in ADDITIONS:
        if not hasattr(owner, name):
            setattr(owner, name, function)

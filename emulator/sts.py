"""STS as the workshop's checks need it: who the caller is, and GetWebIdentityToken.

GetCallerIdentity (replaced): moto answers any access key it does not know with a made-up
``arn:aws:sts::<account>:user/moto``. Here the local backend's well-known keys (any key
not of AWS's form, such as ``testing``) are the account's root user, which may do anything,
as they may here; a key of AWS's form (``AKIA``/``ASIA`` and 16 more) that no IAM user or
role session holds is refused as AWS refuses an unknown key: ``InvalidClientTokenId``
(403). IAM users' keys and role sessions are moto's answer. Gone when moto names the root
for keys it does not know and refuses unknown keys of AWS's form.

GetWebIdentityToken, refused as AWS refuses it for an account that has not enabled it.

The operation is in botocore's STS model (the SDK's ``@requires_iam_access_token`` calls
it) but moto 5.2 lacks it, and its server answers a missing action with an HTML 500. AWS
signs these tokens only once the account has enabled outbound web identity federation
(IAM ``EnableOutboundWebIdentityFederation``), with an issuer and keys of the account's
own; the local backend has neither, so its account never has the feature and the call is
answered with the model's ``OutboundWebIdentityFederationDisabledException`` (403,
Sender), serialized by moto in STS's XML error shape. Gone when moto implements
GetWebIdentityToken; `install` leaves moto's own alone if it has one.
"""

import re

from moto.core.exceptions import InvalidClientTokenIdError
from moto.core.responses import ActionResult
from moto.iam.models import iam_backends
from moto.sts.exceptions import STSClientError
from moto.sts.responses import TokenResponse

DISABLED = "OutboundWebIdentityFederationDisabledException"
AWS_ACCESS_KEY = re.compile(r"(AKIA|ASIA)[A-Z0-9]{16}")
_original_get_caller_identity = TokenResponse.get_caller_identity


def _get_web_identity_token(self: TokenResponse) -> None:
    raise STSClientError(
        DISABLED,
        f"Outbound web identity federation is not enabled for account {self.current_account}: "
        "the local backend does not sign AWS web identity tokens.",
    )


def _known(response: TokenResponse, key: str) -> bool:
    """Does an IAM user or a role session of moto's hold ``key``?"""
    users = iam_backends[response.current_account][response.partition]
    session = response.backend.get_assumed_role_from_access_key(key)
    return session is not None or users.get_user_from_access_key_id(key) is not None


def _get_caller_identity(self: TokenResponse) -> ActionResult:
    key = self.get_access_key()
    if _known(self, key):
        return _original_get_caller_identity(self)
    if AWS_ACCESS_KEY.fullmatch(key):
        raise InvalidClientTokenIdError()
    account = self.current_account
    root = f"arn:{self.partition}:iam::{account}:root"
    return ActionResult({"UserId": account, "Account": account, "Arn": root})


def install() -> None:
    """Add GetWebIdentityToken to moto's STS unless moto serves it, and answer
    GetCallerIdentity as above; a second call changes nothing."""
    if not hasattr(TokenResponse, "get_web_identity_token"):
        TokenResponse.get_web_identity_token = _get_web_identity_token
    TokenResponse.get_caller_identity = _get_caller_identity

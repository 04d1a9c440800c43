"""STS GetWebIdentityToken, refused as AWS refuses it for an account that has not enabled it.

The operation is in botocore's STS model (the SDK's ``@requires_iam_access_token`` calls
it) but moto 5.2 lacks it, and its server answers a missing action with an HTML 500. AWS
signs these tokens only once the account has enabled outbound web identity federation
(IAM ``EnableOutboundWebIdentityFederation``), with an issuer and keys of the account's
own; the local backend has neither, so its account never has the feature and the call is
answered with the model's ``OutboundWebIdentityFederationDisabledException`` (403,
Sender), serialized by moto in STS's XML error shape. Gone when moto implements
GetWebIdentityToken; `install` leaves moto's own alone if it has one.
"""

from moto.sts.exceptions import STSClientError
from moto.sts.responses import TokenResponse

DISABLED = "OutboundWebIdentityFederationDisabledException"


def _get_web_identity_token(self: TokenResponse) -> None:
    raise STSClientError(
        DISABLED,
        f"Outbound web identity federation is not enabled for account {self.current_account}: "
        "the local backend does not sign AWS web identity tokens.",
    )


def install() -> None:
    """Add GetWebIdentityToken to moto's STS unless moto serves it; a second call changes
    nothing."""
    if not hasattr(TokenResponse, "get_web_identity_token"):
        TokenResponse.get_web_identity_token = _get_web_identity_token

"""Workload access tokens: what AgentCore Identity hands a workload acting for a user.

To callers the token is opaque, as on AWS. Inside it is encrypted and authenticated
(JWE, A256GCM) with a key that lives only in this process, so nobody can read or forge
one, and the data plane can tell which workload, and which user, presents it.
"""

import json
import time
from dataclasses import asdict, dataclass

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from emulator.exceptions import AccessDeniedException

LIFETIME = 3600
_KEY = OctKey.generate_key(256)
_HEADER = {"alg": "dir", "enc": "A256GCM"}


@dataclass(frozen=True)
class WorkloadToken:
    account: str
    region: str
    workload: str
    user_id: str | None = None  # GetWorkloadAccessTokenForUserId
    issuer: str | None = None  # GetWorkloadAccessTokenForJWT: the user's IdP …
    subject: str | None = None  # … and their `sub` there
    user_token_sha256: str | None = None  # … and which token proved it (session binding)
    trace: str | None = None  # the runtime session it was minted for (`emulator.trace`)
    expires: int = 0

    @property
    def user(self) -> str | None:
        """One key per user, whichever way the user was named."""
        if self.user_id is not None:
            return f"user-id:{self.user_id}"
        if self.subject is not None:
            return f"jwt:{self.issuer}#{self.subject}"
        return None


def issue(account: str, region: str, workload: str, **user: str) -> str:
    token = WorkloadToken(account, region, workload, expires=int(time.time()) + LIFETIME, **user)
    return jwe.encrypt_compact(_HEADER, json.dumps(asdict(token)), _KEY)


def read(value: str, account: str, region: str) -> WorkloadToken:
    """The token behind ``value``, if this account and region issued it and it is still valid."""
    try:
        token = WorkloadToken(**json.loads(jwe.decrypt_compact(value, _KEY).plaintext))
    except (JoseError, ValueError, TypeError) as error:
        raise AccessDeniedException("The workload access token is not valid.") from error
    if (token.account, token.region) != (account, region):
        raise AccessDeniedException("The workload access token is for another account or region.")
    if token.expires < time.time():
        raise AccessDeniedException("The workload access token has expired.")
    return token

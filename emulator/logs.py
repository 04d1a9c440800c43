"""The local backend's log: our handler tracebacks and the request lines, without secrets.

The request lines carry query strings, and a consent's redirect carries an authorization
code (and the state that binds it) in its URL. A log file is read, copied and pasted in
bug reports, so what would let someone finish a consent or call as a user is masked there.
"""

import logging
import re
import sys

MASK = "***"
# Query parameters whose values grant something: an authorization code, the state that
# pairs with it, an authorization session, a session to bind, tokens and secrets.
SECRET_PARAMETER = re.compile(
    r"\b((?:code|state|request_uri|session_id|access_token|id_token|refresh_token|token"
    r"|client_secret|password)=)[^&\s\"']+"
)
JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")  # a JWS or the start of a JWE: a token


def mask(text: str) -> str:
    return JWT.sub(MASK, SECRET_PARAMETER.sub(rf"\1{MASK}", text))


class Masked(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def to_stderr() -> None:
    """Every log record of this process (ours, werkzeug's request lines, moto's warnings)
    to stderr, the backend's log file, masked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Masked("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(handlers=[handler], level=logging.WARNING, force=True)
    for name in ("emulator", "werkzeug"):  # werkzeug logs a request per line, at INFO
        logging.getLogger(name).setLevel(logging.INFO)

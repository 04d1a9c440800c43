"""One process, one port: our handlers in front of moto's server app.

Requests are routed by path (and, where a path could also be an S3 bucket, by the SigV4
service in the Authorization header). Anything we do not handle goes to moto, which in
turn routes by the SigV4 credential scope, as its own server does. Our routes answer
errors in one place: an `AwsError` in AWS's shape, anything else (a bug of ours) as a 500
after its traceback is logged.
"""

import gc
import io
import json
import os
import signal
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from xml.parsers.expat import ExpatError

from botocore.validate import ParamValidator, ValidationErrors
from moto import backends as moto_backends
from moto.core.utils import get_service_model
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server
from werkzeug.wrappers import Request

from emulator import (
    bedrock,
    iam,
    identity,
    lifetime,
    logs,
    model_access,
    policies,
    site,
    sts,
    trace,
)
from emulator.cognito import discovery, patches
from emulator.cognito import routes as hosted_ui
from emulator.endpoints import (
    BROWSER,
    COGNITO,
    HEALTH_PATH,
    HOST,
    IDENTITY,
    SERVICE_NAME,
    STATS_PATH,
    TRACE_PATH,
)
from emulator.exceptions import (
    AwsError,
    MalformedXML,
    SerializationException,
    internal_error,
)
from emulator.identity import browser
from emulator.runtime import routes as runtime
from emulator.runtime.models import stop_all_agents
from emulator.runtime.process import start_fork_server, stop_fork_server
from emulator.wsgi import SIGV4, WSGIApp, json_response

INSTANCE = uuid.uuid4().hex

Route = tuple[Callable[[dict], bool], WSGIApp]


class _Calls:
    """AWS API calls served, by signing service: what a workshop run costs in requests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_service: Counter[str] = Counter()

    def count(self, environ: dict) -> None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")  # unsigned Cognito calls (InitiateAuth)
        service = _signing_service(environ) or target.split(".")[0]
        if service:
            with self.lock:
                self.by_service[service] += 1

    def app(self, environ: dict, start_response) -> list[bytes]:
        with self.lock:
            body = {"total": sum(self.by_service.values()), "by_service": dict(self.by_service)}
        return json_response(body)(environ, start_response)


CALLS = _Calls()


def _health(environ: dict, start_response) -> list[bytes]:
    body = {"service": SERVICE_NAME, "instance": INSTANCE, "pid": os.getpid()}
    return json_response(body)(environ, start_response)


def _is_get(environ: dict) -> bool:
    return environ.get("REQUEST_METHOD") == "GET"


def _signing_service(environ: dict) -> str | None:
    scope = SIGV4.search(environ.get("HTTP_AUTHORIZATION", ""))
    return scope["service"] if scope else None


def _signed_for(environ: dict, service: str) -> bool:
    """SigV4-signed for ``service``: tells our paths apart from S3 buckets of the same name."""
    return _signing_service(environ) == service


def _is_invocation(environ: dict) -> bool:
    """An invocation with a bearer token or none: never an S3 request for a bucket "runtimes"."""
    unsigned = not environ.get("HTTP_AUTHORIZATION", "").startswith("AWS4-HMAC-SHA256")
    return unsigned and _path(environ).endswith("/invocations")


def _path(environ: dict) -> str:
    return environ.get("PATH_INFO", "")


ROUTES: list[Route] = [
    (lambda env: _path(env) == HEALTH_PATH, _health),
    (lambda env: _path(env) == STATS_PATH, CALLS.app),
    (lambda env: _is_get(env) and _path(env) == TRACE_PATH, trace.TRACES.app),
    (lambda env: _is_get(env) and discovery.WELL_KNOWN.match(_path(env)), discovery.well_known),
    (
        lambda env: _path(env).startswith(hosted_ui.PREFIX + "/"),
        trace.served(hosted_ui.app, BROWSER, COGNITO),
    ),
    (
        lambda env: (
            _path(env).startswith(identity.PREFIX) and _signed_for(env, "bedrock-agentcore")
        ),
        identity.app,
    ),
    (
        lambda env: _is_get(env) and _path(env).startswith("/identities/oauth2/"),
        trace.served(browser.app, BROWSER, IDENTITY),
    ),
    (
        lambda env: (
            _path(env).startswith(runtime.PREFIX)
            and (_signed_for(env, "bedrock-agentcore") or _is_invocation(env))
        ),
        runtime.app,
    ),
    (lambda env: bedrock.PATH.match(_path(env)) and _signed_for(env, "bedrock"), bedrock.app),
    (
        lambda env: _path(env).startswith(model_access.PATHS) and _signed_for(env, "bedrock"),
        model_access.app,
    ),
]


def answered(handler: WSGIApp) -> WSGIApp:
    """``handler`` with its errors answered as AWS answers them, bugs logged first."""

    def guarded(environ: dict, start_response):
        try:
            return handler(environ, start_response)
        except AwsError as error:
            return error.response()(environ, start_response)
        except Exception as error:
            return internal_error(error).response()(environ, start_response)

    return guarded


# JSON-protocol services moto serves to the workshop, by their X-Amz-Target prefix.
JSON_PROTOCOL = {"AWSCognitoIdentityProviderService": "cognito-idp"}


class _TypeErrors(ValidationErrors):
    def report(self, name, reason, **kwargs) -> None:
        """Only a member of the wrong JSON type: moto answers the rest as the service does."""
        if reason == "invalid type":
            super().report(name, reason, **kwargs)


def _check_json_protocol(environ: dict) -> None:
    """A body moto would crash on (not UTF-8, not JSON, not an object, a member of the
    wrong type) refused as AWS refuses it; the body is put back for moto to read."""
    service, _, operation = environ.get("HTTP_X_AMZ_TARGET", "").partition(".")
    model = get_service_model(JSON_PROTOCOL[service]) if service in JSON_PROTOCOL else None
    if model is None or operation not in model.operation_names:
        return
    body = Request(environ).get_data()
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    try:
        params = json.loads(body or b"{}")
    except ValueError as error:  # not JSON, or not UTF-8
        raise SerializationException("The request body is not valid JSON.") from error
    if not isinstance(params, dict):
        raise SerializationException("The request body must be a JSON object.")
    errors = _TypeErrors()
    ParamValidator()._validate(params, model.operation_model(operation).input_shape, errors, "")
    if errors.has_errors():
        raise SerializationException(errors.generate_report())


def _to_moto(moto_app: WSGIApp) -> WSGIApp:
    def checked(environ: dict, start_response):
        _check_json_protocol(environ)
        try:
            return moto_app(environ, start_response)
        except ExpatError as error:  # moto's S3 parses the request's XML, unguarded
            raise MalformedXML(
                "The XML you provided was not well-formed or did not validate against our "
                "published schema."
            ) from error

    return checked


def _list_motos_services_once() -> None:
    """moto's server lists its package's folder (a stat per service) to route every
    request; what is installed does not change while it serves."""
    services = tuple(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: services


def build_app() -> WSGIApp:
    _list_motos_services_once()
    moto_app = answered(_to_moto(DomainDispatcherApplication(create_backend_app)))
    routes = [(matches, answered(handler)) for matches, handler in ROUTES]

    def route(environ: dict, start_response):
        for matches, handler in routes:
            if matches(environ):
                return handler(environ, start_response)
        return moto_app(environ, start_response)

    # A model call is checked against its caller's IAM policies whoever serves it.
    guarded = answered(policies.guard_model_calls(route))

    def dispatch(environ: dict, start_response):
        CALLS.count(environ)
        return guarded(environ, start_response)

    return dispatch


def _stop(signum, frame) -> None:
    raise SystemExit(0)


def serve(port: int = 0, parent: int | None = None, preload: bool = False) -> None:
    """Serve until SIGTERM, SIGINT or SIGHUP (or, given a ``parent``, until that process is
    gone); print ``READY <url>`` once the socket accepts connections. ``preload`` starts
    the agents' fork server now, so even the first deploy is quick; without it, the first
    deploy starts it (seconds of imports that a backend which deploys nothing never pays)."""
    logs.to_stderr()
    patches.install()  # refuses a moto it does not fit, before anything is served
    sts.install()
    iam.install()
    server = make_server(HOST, port, build_app(), threaded=True, request_handler=MotoRequestHandler)
    site.base_url = f"http://{HOST}:{server.server_port}"
    if preload:
        start_fork_server()  # it imports while we serve
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, _stop)
    if parent is not None:
        lifetime.leave_when_orphaned(parent)
    gc.freeze()  # what it imported and built lives as long as it serves: no need to scan it
    print(f"READY {site.base_url}", flush=True)
    try:
        server.serve_forever()
    finally:
        stop_all_agents()
        stop_fork_server()
        server.server_close()
        print("STOPPED", file=sys.stderr, flush=True)

"""A slow identity provider stalls only its own runtimes; STS GetWebIdentityToken is refused
in STS's own error shape. Both over HTTP against the session's emulator process."""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from botocore.exceptions import ClientError

from tests.support import (
    client,
    create_runtime,
    error_of,
    http_error_of,
    invoke_with_bearer,
    quickstart_authorizer,
)

# Longer than the emulator's discovery timeout, so the stalled call ends as a 401.
SLOW_SECONDS = 3.0


class _Provider(ThreadingHTTPServer):
    """An identity provider on 127.0.0.1 that answers every GET ``delay`` seconds late
    with ``status`` and ``body``."""

    daemon_threads = True

    def __init__(self, delay: float, status: int, body: bytes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay, self.status, self.body = delay, status, body
        self.asked = threading.Event()
        self.release = threading.Event()

    @property
    def authorizer(self) -> dict:
        url = f"http://127.0.0.1:{self.server_port}/.well-known/openid-configuration"
        return {"customJWTAuthorizer": {"discoveryUrl": url}}


class _Handler(BaseHTTPRequestHandler):
    server: _Provider

    def do_GET(self) -> None:
        self.server.asked.set()
        self.server.release.wait(self.server.delay)
        try:
            self.send_response(self.server.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(self.server.body)
        except OSError:
            pass  # the emulator gave up waiting and closed the connection

    def log_message(self, format: str, *args) -> None:
        pass


@contextmanager
def _provider(delay: float, status: int, body: bytes) -> Iterator[_Provider]:
    provider = _Provider(delay, status, body)
    threading.Thread(target=provider.serve_forever, daemon=True).start()
    try:
        yield provider
    finally:
        provider.release.set()
        provider.shutdown()
        provider.server_close()


def test_a_slow_discovery_url_stalls_only_its_own_runtime(emulator_url, pool, context_code):
    healthy = create_runtime(
        emulator_url, context_code, authorizerConfiguration=quickstart_authorizer(pool)
    )
    warm = invoke_with_bearer(emulator_url, healthy, {}, token=pool["access_token"])
    assert warm.status_code == 200, warm.text
    with _provider(SLOW_SECONDS, 503, b"{}") as slow, ThreadPoolExecutor(1) as caller:
        stalled = create_runtime(
            emulator_url, context_code, authorizerConfiguration=slow.authorizer
        )
        stalled_call = caller.submit(
            invoke_with_bearer, emulator_url, stalled, {}, token=pool["access_token"]
        )
        assert slow.asked.wait(10), "the emulator never asked the slow provider"
        started = time.monotonic()
        answer = invoke_with_bearer(emulator_url, healthy, {}, token=pool["access_token"])
        took = time.monotonic() - started
        refused = stalled_call.result(timeout=30)
    assert answer.status_code == 200, answer.text
    assert took < SLOW_SECONDS / 2, f"the healthy runtime waited {took:.1f} s"
    status, code, message = http_error_of(refused)
    assert (status, code) == (401, "UnauthorizedException")
    assert "discovery document" in message


@pytest.mark.parametrize("body", [b"[]", b'{"issuer": 7, "jwks_uri": []}', b"not json"])
def test_a_discovery_document_without_issuer_and_keys_is_a_401(
    emulator_url, pool, context_code, body
):
    with _provider(0, 200, body) as provider:
        runtime = create_runtime(
            emulator_url, context_code, authorizerConfiguration=provider.authorizer
        )
        answer = invoke_with_bearer(emulator_url, runtime, {}, token=pool["access_token"])
    status, code, message = http_error_of(answer)
    assert (status, code) == (401, "UnauthorizedException")
    assert "discovery document" in message


def test_get_web_identity_token_is_refused_in_sts_error_shape(emulator_url):
    sts = client(emulator_url, "sts")
    with pytest.raises(ClientError) as error:
        sts.get_web_identity_token(
            Audience=["https://api.example.com"], SigningAlgorithm="ES384", DurationSeconds=300
        )
    assert error_of(error) == ("OutboundWebIdentityFederationDisabledException", 403)
    assert error.value.response["Error"]["Type"] == "Sender"
    assert "123456789012" in error.value.response["Error"]["Message"]


def test_get_web_identity_token_refusal_is_xml_not_an_html_page(emulator_url):
    answer = requests.post(
        emulator_url,
        data={"Action": "GetWebIdentityToken", "Version": "2011-06-15"},
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/"
            "us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0"
        },
        timeout=10,
    )
    assert answer.status_code == 403
    assert answer.text.startswith("<ErrorResponse")
    assert "<Code>OutboundWebIdentityFederationDisabledException</Code>" in answer.text

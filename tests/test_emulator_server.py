"""The local backend as a process: one port on loopback, READY line, clean stop."""

import signal

import boto3
import requests

from emulator.logs import mask
from helpers.backend import LOCAL_CREDENTIALS
from tests.support import start_emulator_process


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port``, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


def test_serves_on_loopback_only_and_stops_cleanly_on_sigterm():
    process, url = start_emulator_process()
    port = int(url.rsplit(":", 1)[1])
    try:
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else
        assert requests.get(f"{url}/_emulator/health", timeout=5).json()["pid"] == process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert _listening_addresses(port) == set()


def test_sigint_stops_it_too():
    process, _ = start_emulator_process()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0


def test_aws_services_fall_through_to_moto(emulator_url):
    s3 = boto3.client("s3", endpoint_url=emulator_url, region_name="us-east-1", **LOCAL_CREDENTIALS)
    s3.create_bucket(Bucket="identities")
    s3.put_object(Bucket="identities", Key=".well-known/openid-configuration", Body=b"x")
    body = s3.get_object(Bucket="identities", Key=".well-known/openid-configuration")["Body"]
    assert body.read() == b"x"
    sts = boto3.client(
        "sts", endpoint_url=emulator_url, region_name="us-east-1", **LOCAL_CREDENTIALS
    )
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_it_counts_the_aws_api_calls_it_serves():
    process, url = start_emulator_process()
    try:
        before = requests.get(f"{url}/_emulator/stats", timeout=5).json()["total"]
        sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1", **LOCAL_CREDENTIALS)
        for _ in range(3):
            sts.get_caller_identity()
        requests.get(f"{url}/_emulator/health", timeout=5)  # not an AWS API call
        stats = requests.get(f"{url}/_emulator/stats", timeout=5).json()
        assert stats["total"] - before == 3
        assert stats["by_service"]["sts"] == 3
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def test_the_log_masks_codes_states_and_tokens():
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl"
    line = (
        '"GET /identities/oauth2/callback/p?code=7rXRZ9XE&state=mTzxvL5d HTTP/1.1" 302 -'
        f" /oauth2/authorize?request_uri=urn%3Aietf%3Ax&client_id=abc Bearer {token}"
    )
    assert mask(line) == (
        '"GET /identities/oauth2/callback/p?code=***&state=*** HTTP/1.1" 302 -'
        " /oauth2/authorize?request_uri=***&client_id=abc Bearer ***"
    )

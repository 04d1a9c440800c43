"""How long does consent take headless? ``make bench`` (not part of the tests).

From the authorization URL to the token being available (sign-in on the hosted UI,
code exchange, session binding, the next GetResourceOauth2Token), and how many HTTP
requests the browser side makes: medians over many round trips, in one run.
"""

import statistics
import time

from benchmarks import local_workshop
from benchmarks.figures import Figure, table
from helpers import cognito, consent, credential_provider, workload_identity

ROUND_TRIPS = 20


def measure() -> list[Figure]:
    with local_workshop("consent") as (_, be, ws):
        pools = cognito.ensure_pools(be, ws)
        provider = credential_provider.ensure_credential_provider(be, ws, pools)
        workload = workload_identity.ensure_workload_identity(be, ws)
        binding_url = workload_identity.session_binding_url(ws)
        workload_identity.set_return_urls(be, workload.name, add=(binding_url,))
        bearer = cognito.bearer_token(be, pools.runtime)
        wat = workload_identity.workload_access_token(be, workload.name, bearer)
        data = be.client("bedrock-agentcore")
        ask = {
            "workloadIdentityToken": wat,
            "resourceCredentialProviderName": provider.name,
            "scopes": ["openid"],
            "oauth2Flow": "USER_FEDERATION",
        }
        binding = consent.serve_session_binding(be, binding_url, bearer)
        seconds, requests_made = [], []
        try:
            for _ in range(ROUND_TRIPS):
                started = data.get_resource_oauth2_token(
                    **ask, resourceOauth2ReturnUrl=binding_url, forceAuthentication=True
                )
                clock = time.perf_counter()
                trip = consent.sign_in_headlessly(started["authorizationUrl"], pools.identity)
                token = data.get_resource_oauth2_token(**ask, sessionUri=started["sessionUri"])
                assert "accessToken" in token
                seconds.append(time.perf_counter() - clock)
                requests_made.append(trip.requests)
        finally:
            binding.stop()
    return [
        Figure(
            f"consent round trip, median of {ROUND_TRIPS}",
            round(statistics.median(seconds) * 1000, 1),
            "ms",
        ),
        Figure("browser requests per consent", statistics.median(requests_made), "requests"),
    ]


def main() -> None:
    print(table(measure()))


if __name__ == "__main__":
    main()

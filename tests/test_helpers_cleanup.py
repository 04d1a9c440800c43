"""Cleanup and safe re-runs through the helpers, against the local backend."""

from helpers import backend, cleanup, cognito, identity, resources, state
from tests.conftest import listed


def test_cleanup_deletes_everything_then_finds_nothing(deployed):
    be, ws, _, agent, _ = deployed
    workshop_dir = ws.path.parent.parent
    identity.write_local_dev_config("identity-demo-workload-x", "alice", workshop_dir)
    report = cleanup.run(be, ws)
    kinds = [row["Resource"].rsplit(" ", 1)[0] for row in report["deleted"]]
    assert kinds[0] == "agent runtime"  # newest first: the runtime before its role and bucket
    assert kinds[-1] == "user pool"
    assert {row["Result"] for row in report["deleted"]} == {"deleted"}
    assert report["leftovers"] == []
    assert ".agentcore.json" in report["files"] and ".workshop/state.json" in report["files"]
    assert state.existing(be) is None
    assert cleanup.run(be, None) == {"deleted": [], "leftovers": [], "files": []}
    control = be.client("bedrock-agentcore-control")
    workloads = listed(control, "list_workload_identities", "workloadIdentities")
    assert agent.workload_identity not in [w["name"] for w in workloads]


def test_cleanup_of_what_is_already_gone_says_so(workshop):
    be = backend.connect("local", "us-east-1")
    ws = state.load(be)
    pools = cognito.setup(be, ws)
    be.client("cognito-idp").delete_user_pool_domain(
        Domain=pools.identity.domain, UserPoolId=pools.identity.pool_id
    )
    be.client("cognito-idp").delete_user_pool(UserPoolId=pools.identity.pool_id)
    results = {row["Resource"]: row["Result"] for row in cleanup.delete_all(be, ws)}
    assert results[f"user pool {pools.identity.pool_id}"] == "already gone"
    assert results[f"user pool {pools.runtime.pool_id}"] == "deleted"
    assert ws.ledger == {}


def test_vanished_resources_are_named_with_what_to_rerun(workshop):
    be = backend.connect("local", "us-east-1")
    ws = state.load(be)
    pools = cognito.setup(be, ws)
    provider = identity.create_credential_provider(be, ws, pools)
    be.client("bedrock-agentcore-control").delete_oauth2_credential_provider(name=provider.name)
    vanished = resources.check(be, state.load(be))
    assert vanished == [
        f"The credential provider {provider.name} no longer exists (deleted elsewhere, or the "
        "local backend restarted): re-run 04_credential_provider and the notebooks after it."
    ]
    again = identity.create_credential_provider(be, state.load(be), pools)
    assert again.name == provider.name and again.callback_url != provider.callback_url
    assert resources.check(be, state.load(be)) == []

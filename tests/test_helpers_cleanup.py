"""Cleanup and safe re-runs through the helpers, against the local backend."""

import pytest

from helpers import cleanup, credential_provider, state, workload_identity, workshop
from helpers.errors import WorkshopError
from helpers.resources import KINDS
from helpers.state import Kind
from tests.support import listed


def test_cleanup_deletes_everything_then_finds_nothing(own_deployment):
    be, ws, _, agent, _ = own_deployment
    workshop_dir = ws.path.parent.parent
    workload_identity.write_local_dev_config("identity-demo-workload-x", "alice", workshop_dir)
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


def test_cleanup_of_what_is_already_gone_says_so(backend_and_state, pools):
    be, ws = backend_and_state
    be.client("cognito-idp").delete_user_pool_domain(
        Domain=pools.identity.domain, UserPoolId=pools.identity.pool_id
    )
    be.client("cognito-idp").delete_user_pool(UserPoolId=pools.identity.pool_id)
    results = {row["Resource"]: row["Result"] for row in cleanup.delete_all(be, ws)}
    assert results[f"user pool {pools.identity.pool_id}"] == "already gone"
    assert results[f"user pool {pools.runtime.pool_id}"] == "deleted"
    assert ws.ledger == {}


def test_vanished_resources_are_named_with_what_to_rerun(backend_and_state, pools):
    be, ws = backend_and_state
    provider = credential_provider.ensure_credential_provider(be, ws, pools)
    be.client("bedrock-agentcore-control").delete_oauth2_credential_provider(name=provider.name)
    with pytest.raises(WorkshopError) as error:
        workshop.resume("local", "us-east-1")
    assert str(error.value) == (
        f"The credential provider {provider.name} no longer exists (deleted elsewhere, or the "
        "local backend restarted): re-run 04_credential_provider and the notebooks after it."
    )
    be, ws = workshop.resume("local", "us-east-1")  # the vanished one is forgotten
    again = credential_provider.ensure_credential_provider(be, ws, pools)
    assert again.name == provider.name and again.callback_url != provider.callback_url


def test_every_kind_the_ledger_takes_can_be_checked_and_deleted():
    assert set(KINDS) == set(Kind)


def test_a_kind_cleanup_would_not_know_fails_when_recorded(backend_and_state):
    _, ws = backend_and_state
    with pytest.raises(WorkshopError, match="'user-pool' is not a kind"):
        ws.record("typo", "user-pool", id="x")
    assert ws.get("typo") is None

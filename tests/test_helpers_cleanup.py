"""Cleanup and safe re-runs through the helpers, against the local backend."""

import json

import pytest

from helpers import (
    api_keys,
    cleanup,
    credential_provider,
    machine_to_machine,
    runtime,
    state,
    workload_identity,
    workshop,
)
from helpers.errors import WorkshopError
from helpers.resources import KINDS
from helpers.state import Kind
from helpers.waiting import wait_until
from tests.support import listed


def test_cleanup_deletes_everything_then_finds_nothing(own_deployment):
    be, ws, _, agent, _ = own_deployment
    workshop_dir = ws.path.parent.parent
    workload_identity.write_local_dev_config("identity-demo-workload-x", "alice", workshop_dir)
    report = cleanup.run(be, ws)
    kinds = [row["Resource"].rsplit(" ", 1)[0] for row in report["deleted"]]
    assert kinds[:2] == ["agent runtime", "log group"]  # newest first: the runtime, its log …
    assert report["deleted"][1]["Resource"] == f"log group {runtime.LOG_GROUPS}{agent.id}-DEFAULT"
    assert kinds[-1] == "user pool"  # … before its role and bucket; the pools last
    assert {row["Result"] for row in report["deleted"]} == {"deleted"}
    assert report["leftovers"] == [] and report["lingering"] == []
    assert ".agentcore.json" in report["files"] and ".workshop/state.json" in report["files"]
    assert state.existing(be) is None
    assert cleanup.run(be, None) == {"deleted": [], "leftovers": [], "lingering": [], "files": []}
    control = be.client("bedrock-agentcore-control")
    workloads = listed(control, "list_workload_identities", "workloadIdentities")
    assert agent.workload_identity not in [w["name"] for w in workloads]
    logs = be.client("logs").describe_log_groups(logGroupNamePrefix=runtime.LOG_GROUPS + agent.id)
    assert logs["logGroups"] == []


def test_every_endpoints_log_group_goes_with_the_runtime(own_deployment):
    be, ws, _, agent, _ = own_deployment
    control = be.client("bedrock-agentcore-control")
    control.create_agent_runtime_endpoint(agentRuntimeId=agent.id, name="canary")

    def canary_ready() -> bool | None:
        endpoint = control.get_agent_runtime_endpoint(
            agentRuntimeId=agent.id, endpointName="canary"
        )
        return True if endpoint["status"] == "READY" else None

    wait_until(canary_ready, "the canary endpoint")
    deleted = [row["Resource"] for row in cleanup.delete_all(be, ws)]
    assert {
        f"log group {runtime.LOG_GROUPS}{agent.id}-{name}" for name in ("DEFAULT", "canary")
    } <= set(deleted)
    assert cleanup.leftovers(be, ws.suffix) == ([], [])


def test_the_runtimes_identity_still_listed_after_the_bound_is_explained(own_deployment):
    """The local runtime's identity lingers until the first read after its runtime is gone:
    with no time to check again, the proof sees it, and says why it is no failure."""
    be, ws, _, agent, _ = own_deployment
    report = cleanup.run(be, ws, settle=0)
    assert report["leftovers"] == []
    assert report["lingering"] == [
        {"Still listed": f"workload identity {agent.workload_identity}", "Why": cleanup.LINGERING}
    ]


def test_a_domain_is_gone_before_its_pool_is_deleted(backend_and_state, pools):
    """As the starter toolkit does: Cognito deletes a domain in the background."""
    be, ws = backend_and_state
    cleanup.delete_all(be, ws)
    calls = [(call.operation, call.request) for call in be.calls.calls]
    deleting = calls.index(
        (
            "DeleteUserPoolDomain",
            {"Domain": pools.identity.domain, "UserPoolId": pools.identity.pool_id},
        )
    )
    assert calls[deleting + 1] == ("DescribeUserPoolDomain", {"Domain": pools.identity.domain})
    assert calls.index(("DeleteUserPool", {"UserPoolId": pools.identity.pool_id})) > deleting


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


def test_the_suffix_is_read_from_what_is_left_of_the_workshops_files(tmp_path):
    """The damaged state's own text first, then the env file, then the SDK's config file."""
    assert cleanup.recovered_suffix(tmp_path) is None
    workload_identity.write_local_dev_config("identity-demo-workload-0123abcd", "x", tmp_path)
    assert cleanup.recovered_suffix(tmp_path) == ("0123abcd", ".agentcore.json")
    values = {name: "x" for name in state.ENV_VARIABLES}
    values |= {"RUNTIME_USERNAME": "testuser4567cdef", "IDENTITY_USERNAME": "externaluser4567cdef"}
    state.write_env_file(values, tmp_path)
    assert cleanup.recovered_suffix(tmp_path) == ("4567cdef", ".agentcore_identity_user.env")
    damaged = tmp_path / ".workshop" / "state.json"
    damaged.parent.mkdir()
    damaged.write_text('{\n  "backend": {"name": "local"},\n  "suffix": "89abcdef",\n  "led')
    assert cleanup.recovered_suffix(tmp_path) == ("89abcdef", ".workshop/state.json")
    damaged.write_bytes(b"\xff\x00 garbage")
    assert cleanup.recovered_suffix(tmp_path)[0] == "4567cdef"


def test_a_damaged_ledger_gives_way_to_what_carries_the_suffix(backend_and_state, pools):
    """Found by their names and deleted in an order that works: a domain before its pool,
    which takes its clients, users and resource servers with it. (tests/test_damaged_state.py
    does the same for a deployed agent.)"""
    be, ws = backend_and_state
    api_keys.ensure_api_key_provider(be, ws)
    machine_to_machine.ensure_resource_server(be, ws, pools.identity)
    ws.path.write_text(ws.path.read_text()[:200])  # cut short: the suffix is still in it
    rebuilt, source = cleanup.what_to_delete(be)
    assert source.startswith("The state file is not valid JSON (it may have been cut short)")
    assert source.endswith(f"suffix {ws.suffix} (read from .workshop/state.json).")
    report = cleanup.run(be, rebuilt)
    assert [row["Resource"].rsplit(" ", 1)[0] for row in report["deleted"]] == [
        "API-key credential provider",
        "hosted-UI domain",
        "user pool",
        "user pool",
    ]
    assert {row["Result"] for row in report["deleted"]} == {"deleted"}
    assert report["leftovers"] == []
    assert not ws.path.exists()
    assert cleanup.what_to_delete(be) == (None, "Nothing recorded: nothing to delete.")


def test_without_a_suffix_anywhere_cleanup_lists_the_ones_it_sees(backend_and_state, pools):
    be, ws = backend_and_state
    ws.path.write_bytes(b"\x8f garbage")
    with pytest.raises(WorkshopError) as refusal:
        cleanup.what_to_delete(be)
    message = str(refusal.value)
    assert message.startswith(
        f"Cleanup cannot tell which resources are this workshop's, as the state file {ws.path} "
        "is not text and no other file of the workshop names its suffix: set SUFFIX in the "
        "parameters cell to the 8 characters that end this workshop's resource names "
        "(names here end in "
    )
    assert ws.suffix in message and "\n" not in message
    assert ws.path.read_bytes() == b"\x8f garbage"  # nothing deleted, nothing removed
    rebuilt, source = cleanup.what_to_delete(be, ws.suffix)
    assert source.endswith(f"suffix {ws.suffix} (given as SUFFIX).")
    assert cleanup.run(be, rebuilt)["leftovers"] == []


def test_a_damaged_state_of_another_backend_is_not_cleaned_up_here(backend_and_state):
    be, ws = backend_and_state
    other = {"name": "aws", "region": "eu-west-1", "instance": None}
    ws.path.write_text(json.dumps({"backend": other, "suffix": ws.suffix}, indent=2))
    with pytest.raises(WorkshopError, match="belongs to the aws backend in eu-west-1: run 13_"):
        cleanup.what_to_delete(be)
    assert ws.path.exists()


def test_cleanup_removes_what_a_writer_that_died_left_beside_the_ledger(workshop_dir):
    folder = workshop_dir / ".workshop"
    folder.mkdir()
    leftovers = [folder / ".state.json.k2j3h4.partial", folder / "state-1a2b.stale.json"]
    for path in leftovers:
        path.write_text("{")
    removed = cleanup.remove_local_files(workshop_dir)
    assert sorted(removed) == sorted(str(p.relative_to(workshop_dir)) for p in leftovers)
    assert not folder.exists()

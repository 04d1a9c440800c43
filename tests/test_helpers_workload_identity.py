"""Quickstart step 6 through the helpers, against the local backend."""

import json

import pytest

from helpers import cognito, state, workload_identity
from helpers.backend import free_port
from helpers.errors import WorkshopError
from helpers.settings import SESSION_BINDING_PORT


def test_workload_identity_is_created_once(backend_and_state):
    be, ws = backend_and_state
    workload = workload_identity.ensure_workload_identity(be, ws)
    assert workload.name == f"identity-demo-workload-{ws.suffix}"
    assert workload_identity.ensure_workload_identity(be, state.load(be)) == workload
    assert ws.get("workload_identity")["name"] == workload.name


def test_return_urls_are_merged_not_replaced(backend_and_state):
    be, ws = backend_and_state
    name = workload_identity.ensure_workload_identity(be, ws).name
    workload_identity.set_return_urls(
        be, name, add=("http://127.0.0.1:1/a", "http://127.0.0.1:1/b")
    )
    workload_identity.set_return_urls(
        be, name, add=("http://127.0.0.1:1/b", "http://127.0.0.1:1/c")
    )
    after = workload_identity.set_return_urls(be, name, remove=("http://127.0.0.1:1/a",))
    assert after.return_urls == ("http://127.0.0.1:1/b", "http://127.0.0.1:1/c")
    assert workload_identity.get_workload_identity(be, name) == after


def test_workload_access_token_for_the_learners_bearer_token(backend_and_state, pools):
    be, ws = backend_and_state
    workload = workload_identity.ensure_workload_identity(be, ws)
    token = workload_identity.workload_access_token(
        be, workload.name, cognito.bearer_token(be, pools.runtime)
    )
    assert token and pools.runtime.username not in token


def test_a_bad_bearer_token_is_explained(backend_and_state):
    be, ws = backend_and_state
    workload = workload_identity.ensure_workload_identity(be, ws)
    with pytest.raises(WorkshopError, match="UnauthorizedException"):
        workload_identity.workload_access_token(be, workload.name, "a.b.c")


def test_local_dev_config_names_the_workload_and_user(tmp_path):
    path = workload_identity.write_local_dev_config("identity-demo-workload-x", "alice", tmp_path)
    assert json.loads(path.read_text()) == {
        "workload_identity_name": "identity-demo-workload-x",
        "user_id": "alice",
    }


def test_the_session_binding_url_is_chosen_once(backend_and_state):
    be, ws = backend_and_state
    url = workload_identity.session_binding_url(ws)
    assert url.startswith("http://127.0.0.1:") and url.endswith("/oauth2/callback")
    assert workload_identity.session_binding_url(state.load(be)) == url


def test_the_session_binding_port_can_be_chosen(backend_and_state, monkeypatch):
    port = free_port()
    monkeypatch.setenv(SESSION_BINDING_PORT, str(port))
    url = workload_identity.session_binding_url(backend_and_state[1])
    assert url == f"http://127.0.0.1:{port}/oauth2/callback"


def test_a_session_binding_port_that_is_no_port_is_explained(backend_and_state, monkeypatch):
    monkeypatch.setenv(SESSION_BINDING_PORT, "eighty")
    with pytest.raises(WorkshopError, match="SESSION_BINDING_PORT must be a port number"):
        workload_identity.session_binding_url(backend_and_state[1])

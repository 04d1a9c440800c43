"""The workshop as a learner does it: JupyterLab started as `make lab` starts it, Run All in
a real browser, each consent given in the browser with the password the panel reveals.

The steps with nothing to click (00 to 06, 08 to 10, 12) run headlessly in every run of
the notebook tests; here the helpers make what 00 to 06 leave in Lab's workshop folder,
and the browser does the steps a person takes part in (07, 11) and the cleanup.

Lab serves a copy of the notebooks (it saves them, outputs and all) and a private state
folder; its own settings keep every cell in the page (no windowing), so a cell's output
can be read wherever the notebook is scrolled.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import requests

from helpers import settings, widgets
from helpers.backend import free_port, health
from helpers.paths import NOTEBOOKS
from tests.support import ARTIFACTS, workshop_made_by_helpers

CONSENT = "07_invoke_and_authorize.ipynb"
SECOND_PROVIDER = "11_second_provider.ipynb"
NO_WINDOWING = {"windowingMode": "none"}
AUTHENTICATED = "✅ Authenticated to external service"


def _start_lab(root: Path) -> tuple[subprocess.Popen, str, str]:
    """`python -m helpers.cli.lab` (= `make lab`) on a copy of the notebooks: the process,
    Lab's URL and its local backend's URL."""
    notebooks, settings_dir = root / "notebooks", root / "settings"
    shutil.copytree(NOTEBOOKS, notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    tracker = settings_dir / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps(NO_WINDOWING))
    port = free_port()
    log = root / "lab.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "helpers.cli.lab",
                "--no-browser",
                f"--port={port}",
                "--ServerApp.token=",
                "--ServerApp.password=",
                "--ServerApp.disable_check_xsrf=True",
                f"--notebook-dir={notebooks}",
                f"--LabApp.user_settings_dir={settings_dir}",
                f"--LabApp.workspaces_dir={root / 'workspaces'}",
            ],
            env={
                **os.environ,
                settings.WORKSHOP_DIR: str(root / "workshop"),
                "JUPYTER_RUNTIME_DIR": str(root / "runtime"),  # where Lab says it runs
            },
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Ctrl-C must reach it: a background job of a non-interactive shell ignores SIGINT.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _answers(url + "/api/status"), "JupyterLab to start", 90)
    except AssertionError:
        _stop(process, signal.SIGKILL)
        raise
    backend_url = log.read_text().split("Local backend: ", 1)[1].split()[0]
    return process, url, backend_url


def _stop(process: subprocess.Popen, number: signal.Signals) -> None:
    """``number`` to Lab's whole process group, as a terminal or `timeout` sends it."""
    os.killpg(process.pid, number)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab as `make lab` starts it: its URL, notebooks folder, root and backend."""
    root = tmp_path_factory.mktemp("lab")
    process, url, backend_url = _start_lab(root)
    try:
        yield url, root / "notebooks", root, backend_url
    finally:
        _stop(process, signal.SIGINT)  # as Ctrl-C in the terminal: Lab and backend stop


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def _wait_for(condition, what: str, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _kernel_state(url: str, name: str) -> str | None:
    sessions = requests.get(f"{url}/api/sessions", timeout=5).json()
    kernel = next((s["kernel"] for s in sessions if s["path"] == name), None)
    return (
        kernel
        and requests.get(f"{url}/api/kernels/{kernel['id']}", timeout=5).json()["execution_state"]
    )


def _open(page, url: str, name: str):
    """Lab, opened on ``name`` (a link to it), in a workspace of its own."""
    page.goto(f"{url}/lab/workspaces/{Path(name).stem}/tree/{name}")
    return _opened(page, url, name)


def _open_from_the_file_browser(page, url: str, name: str):
    """``name``, double-clicked in Lab's file browser, in a tab beside those open."""
    page.locator(".jp-DirListing-item", has_text=name).dblclick()
    return _opened(page, url, name)


def _opened(page, url: str, name: str):
    notebook = page.locator(".jp-NotebookPanel:visible")
    page.locator(".jp-mod-current .lm-TabBar-tabLabel", has_text=name).wait_for(timeout=60_000)
    notebook.wait_for(timeout=60_000)
    _wait_for(lambda: _kernel_state(url, name) == "idle", f"{name}'s kernel", 60)
    return notebook


def _close_tab(page) -> None:
    page.locator(".lm-MenuBar-itemLabel:text-is('File')").click()
    page.locator(".lm-Menu-itemLabel:text-is('Close Tab')").click()


def _run_all(page) -> None:
    page.locator(".lm-MenuBar-itemLabel:text-is('Run')").click()
    page.locator(".lm-Menu-itemLabel:text-is('Run All Cells')").click()


def _finish(page, url: str, name: str, folder: Path) -> nbformat.NotebookNode:
    """Wait for the Run All to end, save, stop the kernel; the notebook as saved."""

    running = page.locator(".jp-NotebookPanel:visible .jp-InputPrompt", has_text="[*]")

    def settled() -> bool:
        if _kernel_state(url, name) != "idle" or running.count():
            return False
        time.sleep(1)
        return _kernel_state(url, name) == "idle" and not running.count()

    _wait_for(settled, f"{name} to finish", 300)
    page.keyboard.press("Control+s")
    _wait_for(lambda: not page.locator(".jp-mod-dirty:visible").count(), "the save", 30)
    for session in requests.get(f"{url}/api/sessions", timeout=5).json():
        requests.delete(f"{url}/api/sessions/{session['id']}", timeout=10)
    return nbformat.read(folder / name, as_version=4)


def _errors(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        f"{output['ename']}: {output['evalue']}"
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output["output_type"] == "error"
    ]


def _consent(chromium, link: str, username: str, password: str):
    """The learner's browser: the link, the hosted UI's form, the session-binding page."""
    consent = chromium.new_page()
    consent.goto(link)
    consent.fill("#signInFormUsername", username)
    consent.fill("#signInFormPassword", password)
    consent.click("input[name=signInSubmitButton]")
    consent.wait_for_selector("text=You're connected", timeout=60_000)
    return consent


def _sign_in(chromium, cell) -> None:
    """Consent as the user ``cell``'s card names, with the password its panel reveals."""
    username = cell.locator(".jp-RenderedHTMLCommon b").first.inner_text()
    cell.locator("button", has_text="Show password").click()
    password_box = cell.locator(f".widget-hbox:has-text('{username}:') input")
    password = _wait_for(
        lambda: (value := password_box.input_value()) != "(hidden)" and value,
        f"{username}'s password to show",
        30,
    )
    link = cell.locator("a", has_text="sign-in page").get_attribute("href")
    _consent(chromium, link, username, password).close()
    cell.locator("text=✅ Connected: AgentCore Identity holds your token").wait_for()


def test_a_learner_runs_the_workshop_in_jupyterlab(lab, chromium):
    url, folder, root, backend_url = lab
    workshop_made_by_helpers(backend_url, root / "workshop")
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})

    notebook = _open(page, url, CONSENT)
    _run_all(page)
    card = notebook.locator("a", has_text="Open the external service's sign-in page")
    card.wait_for(timeout=120_000)
    username = notebook.locator(".jp-RenderedHTMLCommon b").first.inner_text()
    waiting = notebook.locator(".jp-CodeCell", has_text="wait_for_consent").locator(
        ".jp-InputPrompt", has_text="[*]"
    )
    waiting.wait_for(timeout=30_000)
    page.screenshot(path=ARTIFACTS / "lab-1-waiting-for-consent.png")

    # While Run All waits for consent (that cell still running), the panel answers.
    notebook.locator("button", has_text="Show password").click()
    password_box = notebook.locator(f".widget-hbox:has-text('{username}:') input")
    password = _wait_for(
        lambda: (value := password_box.input_value()) != "(hidden)" and value,
        "the password to show",
        30,
    )
    assert waiting.count() == 1, "the cell that waits for consent has stopped waiting"
    notebook.locator("button", has_text="Hide password").click()

    consent = _consent(chromium, card.get_attribute("href"), username, password)
    consent.screenshot(path=ARTIFACTS / "lab-2-connected.png")

    notebook.locator("text=✅ Connected: AgentCore Identity holds your token").wait_for()
    notebook.locator("button", has_text="Invoke again (same session)").click()
    notebook.locator(f"text={widgets.TOKEN_USED}").wait_for(timeout=60_000)  # from its fields
    page.screenshot(path=ARTIFACTS / "lab-3-invoked-again.png")
    saved = _finish(page, url, CONSENT, folder)
    assert not _errors(saved)
    shown = json.dumps([c.get("outputs", []) for c in saved.cells], ensure_ascii=False)
    assert "🔐 Authorization Required" in shown and AUTHENTICATED in shown
    assert password not in (folder / CONSENT).read_text(), "the password was saved"

    # Closed and opened again, the saved notebook still says where to sign in.
    _close_tab(page)
    reopened = _open_from_the_file_browser(page, url, CONSENT)
    link = reopened.locator("a", has_text="sign-in page").first
    link.wait_for(timeout=60_000)
    link.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "lab-4-reopened.png")
    _close_tab(page)

    # Two services: three consents in a row, each card and panel while its cell waits.
    notebook = _open_from_the_file_browser(page, url, SECOND_PROVIDER)
    _run_all(page)
    for service, nth in (("external service", 0), ("calendar", 0), ("calendar", 1)):
        cell = notebook.locator(f'.jp-Cell:has(a:has-text("Open the {service}\'s sign-in"))')
        cell.nth(nth).wait_for(timeout=120_000)
        _sign_in(chromium, cell.nth(nth))
    second = _finish(page, url, SECOND_PROVIDER, folder)
    assert not _errors(second)
    assert "One user, two providers" in json.dumps([c.get("outputs", []) for c in second.cells])

    _open_from_the_file_browser(page, url, "13_cleanup.ipynb")
    _run_all(page)
    assert not _errors(_finish(page, url, "13_cleanup.ipynb", folder))
    assert not (root / "workshop" / ".workshop" / "state.json").exists()


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_make_lab_stopped_by_a_signal_stops_its_backend(tmp_path, number):
    """Ctrl-C, a closed terminal (SIGHUP) or `timeout` and container stops (SIGTERM) end the
    whole process group; nothing of it may keep running, and Lab shuts down cleanly (a
    killed Lab leaves its server files behind, and `jupyter server list` names it)."""
    process, url, backend_url = _start_lab(tmp_path)
    _stop(process, number)
    assert process.returncode is not None
    assert not _answers(url + "/api/status"), "JupyterLab still runs"
    assert health(backend_url) is None, "the local backend outlived make lab"
    assert not list((tmp_path / "runtime").glob("jpserver-*")), "Lab did not shut down cleanly"

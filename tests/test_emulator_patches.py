"""The patches to moto's Cognito: checked against moto at startup, installed once."""

import subprocess
import sys
from importlib.metadata import version

import pytest
from moto.cognitoidp import models

from emulator.cognito import patches


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_the_installed_moto_fits_every_patch():
    patches.check_moto()


def test_a_changed_signature_is_named_with_the_moto_version():
    expected = {**patches.EXPECTED_PARAMETERS, "models.CognitoIdpBackend.initiate_auth": ("x",)}
    with pytest.raises(patches.IncompatibleMoto) as error:
        patches.check_moto(expected)
    assert f"moto {version('moto')} changed moto.cognitoidp.models." in str(error.value)
    assert "CognitoIdpBackend.initiate_auth" in str(error.value)


def test_a_pool_that_no_longer_imports_its_key_where_it_did_is_named(monkeypatch):
    """Each pool's own key is given where moto's pool imports its shared one."""

    def __init__(self, account_id, region, name, extended_config):
        self.json_web_key = "moto's shared key, from somewhere new"

    monkeypatch.setattr(models.CognitoIdpUserPool, "__init__", __init__)
    with pytest.raises(patches.IncompatibleMoto) as error:
        patches.check_moto()
    assert "CognitoIdpUserPool.__init__: it no longer calls jwk.RSAKey.import_key()" in str(
        error.value
    )


def test_the_backend_refuses_to_start_on_a_moto_whose_signature_changed():
    started = _python(
        "import sys\n"
        "from moto.cognitoidp import models\n"
        "def initiate_auth(self, client_id, auth_flow, auth_parameters, session): pass\n"
        "models.CognitoIdpBackend.initiate_auth = initiate_auth\n"
        "sys.argv = ['emulator', 'serve', '--port', '0']\n"
        "from emulator.__main__ import main\n"
        "main()\n"
    )
    assert started.returncode != 0
    assert "READY" not in started.stdout
    assert "The local backend cannot start" in started.stderr
    assert "models.CognitoIdpBackend.initiate_auth" in started.stderr
    assert f"moto {version('moto')}" in started.stderr
    assert "Traceback" not in started.stderr


def _after_install(checks: str) -> None:
    """Run ``checks`` in a fresh interpreter where ``moto_<name>`` is moto's own function."""
    ran = _python(
        "from moto.cognitoidp import models\n"
        "from emulator.cognito import patches\n"
        "moto_create_jwt = models.CognitoIdpUserPool.create_jwt\n"
        "moto_initiate_auth = models.CognitoIdpBackend.initiate_auth\n"
        "patches.install()\n" + checks + "print('checked')\n"
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "checked"


def test_installing_twice_patches_once():
    _after_install(
        "first = models.CognitoIdpUserPool.create_jwt\n"
        "patches.install()\n"
        "assert first is not moto_create_jwt\n"
        "assert models.CognitoIdpUserPool.create_jwt is first\n"
        "assert patches._originals[models.CognitoIdpUserPool, 'create_jwt'] is moto_create_jwt\n"
    )


def test_the_check_reads_motos_functions_once_they_are_patched():
    _after_install(
        "assert models.CognitoIdpBackend.initiate_auth is not moto_initiate_auth\n"
        "assert patches._function('models.CognitoIdpBackend.initiate_auth') is moto_initiate_auth\n"
        "patches.check_moto()\n"
    )

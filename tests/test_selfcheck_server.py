"""`osler selfcheck --server URL` against the real llama.cpp server: security, key, identity,
a differential through it, and nothing but the server contacted; a wrong key fails clearly."""

from __future__ import annotations

import pytest

from osler.reasoning.server.config import ServerConfig
from osler.selfcheck import FAIL, OK, WARN
from osler.selfcheck_server import check_server

pytestmark = pytest.mark.slow


@pytest.fixture
def small_kb():
    from tests.reasoning.conftest import tiny_kb

    return tiny_kb()


def test_selfcheck_of_a_working_clinic_server(clinic_server, small_kb):
    checks = {c.name: c for c in check_server(
        ServerConfig.build(clinic_server.url, clinic_server.api_key), small_kb)}
    assert checks["Server connection"].status == OK and "this machine only" in \
        checks["Server connection"].detail
    assert checks["Server API key"].status == OK
    server = checks["Clinic server"]
    assert server.status == OK and "llama-cpp-python" in server.detail
    assert "prompt log-probabilities by echo" in server.detail
    assert server.data["server"] == clinic_server.url and server.data["weights"]
    assert checks["Server differential"].status == OK, checks["Server differential"].detail
    offline = checks["Offline with the server"]
    assert offline.status == OK and offline.data["attempts"] == []
    assert clinic_server.api_key not in repr([c.to_json() for c in checks.values()])


def test_selfcheck_names_a_wrong_key_and_what_to_do(clinic_server, small_kb):
    checks = {c.name: c for c in check_server(ServerConfig.build(clinic_server.url, "nope"),
                                               small_kb)}
    assert checks["Server API key"].status == OK
    assert checks["Clinic server"].status == FAIL
    assert "HTTP 401" in checks["Clinic server"].detail
    assert "osler server key" in checks["Clinic server"].detail
    assert checks["Offline with the server"].status in (OK, WARN)

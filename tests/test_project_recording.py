"""What a project changes about recording from its own conftest.py: vcrpy settings
(imagebuild_vcr_config), more secrets (pytest_imagebuild_secrets), texts exempt from the
secret scan, and hosts still reachable while the network is blocked."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
from pathlib import Path

import pytest

from pytest_imagebuild.recording import CassetteError, SecretBook
from pytest_imagebuild.recording.blocking import NetworkBlocked, network_blocked
from pytest_imagebuild.recording.cassettes import ScrubbedPersister

ROOT = Path(__file__).parent.parent


@pytest.fixture
def main_job(pytester: pytest.Pytester) -> pytest.Pytester:
    """The main job's template, smoke tests and shipped cassettes in a fresh folder."""
    (pytester.path / "examples").mkdir()
    for name in ("webserver.json", "test_webserver.py", "scripts"):
        source, target = ROOT / "examples" / name, pytester.path / "examples" / name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    shutil.copytree(ROOT / "cassettes", pytester.path / "cassettes")
    return pytester


def test_vcr_config_hooks_and_matchers_from_conftest_are_used(main_job):
    main_job.makeconftest(
        """
import pytest

SEEN = []


def note(request):
    SEEN.append(request.uri)
    return request


def same_method(r1, r2):
    assert r1.method == r2.method


@pytest.fixture(scope="session")
def imagebuild_vcr_config():
    return {"before_record_request": note, "match_on": [same_method]}


def pytest_sessionfinish(session):
    print(f"project hook saw {len(SEEN)} requests")
"""
    )
    result = main_job.runpytest_subprocess("--image-template", "examples/webserver.json", "-s")
    result.assert_outcomes(passed=5)
    seen = [line for line in result.outlines if line.startswith("project hook saw")]
    assert seen and int(seen[-1].split()[3]) > 10, result.stdout.str()


def test_record_mode_in_vcr_config_is_a_clear_error(main_job):
    main_job.makeconftest(
        """
import pytest


@pytest.fixture(scope="session")
def imagebuild_vcr_config():
    return {"record_mode": "all"}
"""
    )
    result = main_job.runpytest_subprocess(
        "--image-template", "examples/webserver.json", "-k", "build"
    )
    result.stdout.fnmatch_lines(["*'record_mode' is not taken from here; use --image-record-mode*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    assert result.ret == 1


def test_secrets_from_the_hook_are_masked_in_output(main_job):
    main_job.makeconftest(
        """
def pytest_imagebuild_secrets(config):
    return ["Packer-Poc-Mauri-RG"]
"""
    )
    result = main_job.runpytest_subprocess("--image-template", "examples/webserver.json", "-s")
    result.assert_outcomes(passed=5)
    assert "Packer-Poc-Mauri-RG" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*artifact: /subscriptions/<sensitive>/resourceGroups/*"])


def test_secret_scan_refuses_then_saves_with_an_allowed_text(tmp_path):
    book = SecretBook(named={"ssh_password": "test"})
    cassette = {"requests": [], "responses": []}
    path = tmp_path / "c.yaml"

    def serializer_with(text):
        class Serializer:
            @staticmethod
            def serialize(data):
                return text

        return Serializer

    with pytest.raises(CassetteError) as refused:
        ScrubbedPersister(book).save_cassette(path, cassette, serializer_with("image: latest\n"))
    assert "secret_scan_allow" in str(refused.value)
    assert "pytest_imagebuild/secrets.py" not in str(refused.value)
    assert not path.exists()
    ScrubbedPersister(book, allowed=("latest",)).save_cassette(
        path, cassette, serializer_with("image: latest\n")
    )
    assert path.read_text() == "image: latest\n"
    with pytest.raises(CassetteError):  # the secret itself, elsewhere, is still refused
        ScrubbedPersister(book, allowed=("latest",)).save_cassette(
            path, cassette, serializer_with("image: latest\npassword: test\n")
        )


@pytest.fixture
def local_server():
    """A listening port that accepts one connection; closing it early is not an error."""

    def accept_one(server: socket.socket) -> None:
        with contextlib.suppress(OSError):  # closed before anyone connected
            server.accept()[0].close()

    with socket.create_server(("127.0.0.1", 0)) as server:
        threading.Thread(target=accept_one, args=(server,), daemon=True).start()
        yield server.getsockname()[1]


def test_allowed_hosts_stay_reachable_while_blocked(local_server):
    with (
        network_blocked("replaying", ("127.0.0.1",)),
        socket.create_connection(("127.0.0.1", local_server), timeout=10),
    ):
        pass
    with (
        network_blocked("replaying", (f"localhost:{local_server + 1}",)),
        pytest.raises(NetworkBlocked),
    ):
        socket.create_connection(("127.0.0.1", local_server), timeout=10)


def test_allowed_hosts_option_reaches_a_replayed_smoke_test(main_job, local_server):
    (main_job.path / "examples" / "test_local.py").write_text(
        f"""
import socket

import pytest

pytestmark = pytest.mark.imagebuild(template="webserver.json")


def test_local_service(image):
    socket.create_connection(("127.0.0.1", {local_server}), timeout=10).close()
"""
    )
    cassettes = main_job.path / "cassettes/examples/webserver/azure-arm"
    cassette = cassettes / "test_local.test_local_service.yaml"
    cassette.write_text("interactions: []\nversion: 1\n")
    args = ("--image-template", "examples/webserver.json", "examples/test_local.py", "-k", "local")
    blocked = main_job.runpytest_subprocess(*args)
    blocked.assert_outcomes(failed=1, deselected=2)
    blocked.stdout.fnmatch_lines(["*network access to 127.0.0.1:* is blocked*"])
    allowed = main_job.runpytest_subprocess(*args, "--image-allowed-hosts", "127.0.0.1")
    allowed.assert_outcomes(passed=1, deselected=2)

"""pytest-imagebuild beside other pytest plugins: pytest-recording's options and cassettes,
testinfra's own ``host`` for tests that are not about a template."""

from __future__ import annotations

import json

import pytest
from test_null_builder import null_template, sshd  # noqa: F401 (a fixture)

pytest.importorskip("pytest_recording")


def test_pytest_recording_and_template_items_run_in_one_session(pytester):
    """pytest-recording's --record-mode and vcr marker next to our --image-* options."""
    (pytester.path / "t.json").write_text(
        json.dumps({"builders": [{"type": "null", "communicator": "none"}]})
    )
    pytester.makepyfile(
        test_http="""
import pytest
import urllib.request


@pytest.mark.vcr
def test_replays_its_own_cassette(vcr):
    assert vcr.record_mode == "none"
    body = urllib.request.urlopen("http://example.invalid/hello").read()
    assert body == b"hello from a cassette"
"""
    )
    cassettes = pytester.path / "cassettes" / "test_http"
    cassettes.mkdir(parents=True)
    (cassettes / "test_replays_its_own_cassette.yaml").write_text(
        "interactions:\n"
        "- request:\n"
        "    body: null\n"
        "    headers: {}\n"
        "    method: GET\n"
        "    uri: http://example.invalid/hello\n"
        "  response:\n"
        "    body: {string: hello from a cassette}\n"
        "    headers: {}\n"
        "    status: {code: 200, message: OK}\n"
        "version: 1\n"
    )
    result = pytester.runpytest_subprocess(
        "--record-mode=none",
        "--image-record-mode=none",
        "--image-template",
        "t.json",
        "test_http.py",
        "-v",
    )
    result.stdout.fnmatch_lines(
        ["*t.json::validate PASSED*", "*test_replays_its_own_cassette PASSED*"]
    )
    result.stdout.no_fnmatch_line("*conflicting option*")
    result.stdout.no_fnmatch_line("*cannot be rewritten*")
    assert result.ret == 0, result.stdout.str()


def test_plain_testinfra_tests_keep_testinfras_host_beside_a_template(pytester, sshd, tmp_path):  # noqa: F811
    marker = tmp_path / "marker.txt"
    (pytester.path / "null.json").write_text(json.dumps(null_template(sshd, marker)))
    pytester.makepyfile(
        test_null="""
def test_host_is_the_templates_machine(host):
    assert host.backend.NAME == "paramiko"
""",
        test_infra="""
def test_passwd(host):
    assert host.backend.NAME == "local"
    assert host.file("/etc/passwd").contains("root")
""",
    )
    result = pytester.runpytest_subprocess(
        "--image-template", "null.json", "test_null.py", "test_infra.py", "--hosts=local://", "-v"
    )
    result.stdout.fnmatch_lines(["*test_infra.py::test_passwd?local? PASSED*"])
    result.stdout.no_fnmatch_line("*cannot tell which template*")
    result.assert_outcomes(passed=4)


def test_testinfra_hosts_parametrize_plain_tests_only(pytester):
    """--hosts with two hosts runs a plain testinfra test once per host, as testinfra alone
    does; a test marked for a template is not parametrized by --hosts."""
    pytester.makepyfile(
        test_infra="""
def test_passwd(host):
    assert host.file("/etc/passwd").exists
""",
        test_image="""
import pytest

pytestmark = pytest.mark.imagebuild(template="t.json")


def test_on_the_vm(host):
    pass
""",
    )
    result = pytester.runpytest_subprocess("--hosts=local://,ssh://elsewhere", "--co", "-q")
    result.stdout.fnmatch_lines(
        [
            "test_image.py::test_on_the_vm",
            "test_infra.py::test_passwd?local?",
            "test_infra.py::test_passwd?ssh://elsewhere?",
        ]
    )
    assert result.ret == 0


def test_replayed_responses_give_back_their_connection_on_every_vcrpy(monkeypatch):
    """requests-ntlm (WinRM) calls release_conn; vcrpy before 9 (all Python 3.10 gets) has none."""
    from vcr.stubs import VCRHTTPResponse

    from pytest_imagebuild.recording.vcr_compat import ensure_release_conn

    if hasattr(VCRHTTPResponse, "release_conn"):
        monkeypatch.delattr(VCRHTTPResponse, "release_conn")
    ensure_release_conn()
    returned = []

    class Pool:
        def _put_conn(self, connection):
            returned.append(connection)

    response = VCRHTTPResponse.__new__(VCRHTTPResponse)
    response._pool, response._connection = Pool(), "the connection"
    response.release_conn()
    response.release_conn()
    assert returned == ["the connection"]


def test_report_header_says_replay_or_record_and_where(pytester, monkeypatch):
    (pytester.path / "t.json").write_text(
        json.dumps({"builders": [{"type": "null", "communicator": "none"}]})
    )
    replay = pytester.runpytest_subprocess("--image-template", "t.json", "--co")
    replay.stdout.fnmatch_lines(["imagebuild: 1 template; cloud builds: replay*cassettes in *"])
    monkeypatch.setenv("ARM_CLIENT_SECRET", "only-to-allow-recording")  # --co: nothing is sent
    record = pytester.runpytest_subprocess(
        "--image-template", "t.json", "--co", "--image-record-mode=all"
    )
    record.stdout.fnmatch_lines(["imagebuild: 1 template; cloud builds: record (record mode all)*"])
    plain = pytester.runpytest_subprocess("--co")
    plain.stdout.no_fnmatch_line("imagebuild:*")

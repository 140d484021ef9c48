"""Replay fails closed: without credentials a cloud build replays from cassettes or stops with
one paragraph; it never reaches a live credential chain (managed identity, Azure CLI).

A template saved with a UTF-8 BOM was once not seen as recorded and went to the default Azure
credential chain; on a CI runner with a managed identity that creates billable resources.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from trust_project import SHIPPED, needs_cassettes, run_offline

from pytest_imagebuild.clock import REAL_CLOCK
from pytest_imagebuild.recording.session import RecordingSession
from standin.record_examples import ROOT


class Reached(AssertionError):
    pass


@pytest.fixture
def no_live_credentials(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No credentials in the environment, and every azure.identity credential explodes."""
    import azure.identity

    for name in list(__import__("os").environ):
        if name.startswith(("ARM_", "AZURE_", "IMAGEBUILD_AZURE_")):
            monkeypatch.delenv(name)
    made: list[str] = []
    for name in ("DefaultAzureCredential", "ManagedIdentityCredential", "AzureCliCredential"):

        def explode(*args: object, _name: str = name, **kwargs: object) -> None:
            made.append(_name)
            raise Reached(f"{_name} was instantiated")

        monkeypatch.setattr(azure.identity, name, explode)
    return made


def _webserver(pytester: pytest.Pytester, text: str | None = None) -> Path:
    folder = pytester.path / "examples"
    shutil.copytree(ROOT / "examples" / "scripts", folder / "scripts")
    template = folder / "webserver.json"
    template.write_text(text or (ROOT / "examples" / "webserver.json").read_text())
    pytester.makeini("[pytest]\n")
    return template


@needs_cassettes
def test_a_template_saved_with_a_bom_replays_offline(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "scripts", project / "examples" / "scripts")
    text = (ROOT / "examples" / "webserver.json").read_text()
    (project / "examples" / "webserver.json").write_text("\ufeff" + text, encoding="utf-8")
    (project / "pytest.ini").write_text("[pytest]\n")
    shutil.copytree(SHIPPED, project / "cassettes" / "examples" / "webserver")
    code, output = run_offline(
        project, "-k", "build", "--image-template", "examples/webserver.json", mode=""
    )
    assert code == 0, output
    assert "PASSED examples/webserver.json::build[azure-arm]" in output


def test_no_cassette_and_no_credentials_fails_in_one_paragraph(
    pytester: pytest.Pytester, no_live_credentials: list[str]
) -> None:
    _webserver(pytester)
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--image-template", "examples/webserver.json", "-k", "build"
    )
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "no cassette to replay" in output
    assert "Traceback" not in output and "Reached" not in output
    assert no_live_credentials == []


def test_a_build_the_recording_layer_missed_stops_before_any_credential_chain(
    pytester: pytest.Pytester, no_live_credentials: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: even when the template is (wrongly) not seen as recorded, so no
    cassette wraps its build, the build stops before instantiating a live credential."""
    @contextmanager
    def no_cassette(self: object, *args: object) -> Iterator[object]:
        yield REAL_CLOCK

    monkeypatch.setattr(RecordingSession, "records", lambda self, kinds: False)
    monkeypatch.setattr(RecordingSession, "use", no_cassette)
    _webserver(pytester)
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--image-template", "examples/webserver.json", "-k", "build"
    )
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "no Azure credentials are set, so it stops here" in output
    assert "managed identity" in output and "--image-record-mode=once" in output
    assert "Traceback" not in output and "Reached" not in output
    assert no_live_credentials == []


@pytest.mark.parametrize("mode", ["rewrite", "all", "new_episodes"])
def test_a_recording_mode_without_credentials_is_refused_before_touching_cassettes(
    pytester: pytest.Pytester, no_live_credentials: list[str], mode: str
) -> None:
    _webserver(pytester)
    cassette = pytester.path / "cassettes" / "examples" / "webserver" / "azure-arm" / "build.yaml"
    cassette.parent.mkdir(parents=True)
    original = (
        SHIPPED / "azure-arm" / "build.yaml"
        if SHIPPED.is_dir()
        else Path(__file__)  # any bytes do: they must come out unchanged
    ).read_bytes()
    cassette.write_bytes(original)
    for given in ([f"--image-record-mode={mode}"], ["-o", f"image_record_mode={mode}"]):
        result = pytester.runpytest_inprocess(
            "-p", "no:cacheprovider", "--image-template", "examples/webserver.json", *given
        )
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        error = result.stderr.str()
        assert f"--image-record-mode={mode} re-records cassettes" in error
        assert "nothing was changed" in error
        assert cassette.read_bytes() == original
        assert sorted(p.name for p in cassette.parent.iterdir()) == ["build.yaml"]

"""A sensitive variable handed to PowerShell never shows, in any encoding: recorded against the
loopback Azure with every logger at DEBUG, then replayed offline from the cassettes written.

PowerShell commands travel over WinRM as ``-EncodedCommand`` (UTF-16LE base64), and command
output comes back base64-encoded in SOAP streams, so a secret the raw-text scrubber would
catch hides in base64 unless the scrubber and the log filter look inside.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_imagebuild.secrets import encoded_forms
from standin import Standin, start_standin
from standin.record_examples import ROOT, offline_environment, standin_environment

SECRET = "Tr0ub4dor-and-3-horses"  # the sensitive variable's value
Recording = tuple[Standin, Path, str]


def _template(folder: Path) -> Path:
    """The main job's template plus a sensitive variable that a provisioner passes to
    PowerShell (set in the environment, and echoed, so it also comes back as output)."""
    template = json.loads((ROOT / "examples" / "webserver.json").read_text())
    template["variables"]["app_secret"] = ""
    template["sensitive-variables"].append("app_secret")
    template["provisioners"].insert(
        0,
        {
            "type": "powershell",
            "inline": [
                "$env:APP_SECRET='{{user `app_secret`}}'",
                "Write-Output \"secret is $env:APP_SECRET\"",
            ],
        },
    )
    shutil.copytree(ROOT / "examples" / "scripts", folder / "scripts")
    path = folder / "secretive.json"
    path.write_text(json.dumps(template, indent=2))
    return path


def _run(env: dict[str, str], template: Path, cassettes: Path, mode: str, *extra: str):
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--image-template",
        str(template),
        f"--image-record-mode={mode}",
        "-o",
        f"image_cassette_dir={cassettes}",
        "-o",
        "log_cli=true",
        "--log-cli-level=DEBUG",
        "--log-level=DEBUG",
        "-o",
        "image_vcr_log_level=DEBUG",
        "-rA",
        *extra,
    ]
    done = subprocess.run(
        command, cwd=template.parent, env=env, capture_output=True, text=True, timeout=900
    )
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recording]:
    folder = tmp_path_factory.mktemp("secretive")
    template = _template(folder)
    cassettes = folder / "cassettes"
    with start_standin(fast=True) as standin:
        env = standin_environment(standin)
        code, output = _run(
            env, template, cassettes, "rewrite", "--image-var", f"app_secret={SECRET}"
        )
        assert code == 0, output
        yield standin, template, output


def _leaks(text: str) -> list[str]:
    return [form for form in encoded_forms(SECRET) if form in text]


def test_the_provisioner_really_ran_with_the_secret(recording: Recording) -> None:
    _, _, output = recording
    assert "secret is <sensitive>" in output, output[-3000:]


def test_no_encoding_of_the_secret_in_output_or_cassettes(recording: Recording) -> None:
    _, template, output = recording
    assert "Appending request" in output, "vcrpy's own log was on, at DEBUG"
    assert not _leaks(output), f"the secret is in the output as {_leaks(output)}"
    files = sorted((template.parent / "cassettes").rglob("*.yaml"))
    assert files
    for path in files:
        text = path.read_text()
        assert not _leaks(text), f"{path} holds the secret as {_leaks(text)}"


def test_the_recording_replays_offline(recording: Recording, tmp_path: Path) -> None:
    _, template, _ = recording
    code, output = _run(
        offline_environment(),
        template,
        template.parent / "cassettes",
        "none",
        "--image-block-network",
        f"--basetemp={tmp_path}",
    )
    assert code == 0, output[-5000:]
    # The replay sends the placeholder, which is masked like the value it stands for.
    assert "secret is <sensitive>" in output
    assert not _leaks(output)

"""The smoke-test VM from a generalized Windows image is reachable only because the launcher
sets WinRM over HTTPS up again: with that step disabled, the launch fails with a clear
connection message instead of the smoke tests passing.

pytest runs in a subprocess against the loopback Azure, with a plugin that replaces the
launcher's listener set-up with nothing (what a launcher that trusted the image would do).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from standin import Standin
from standin.plugin_env import create_image_group, run_pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

NO_RESET_PLUGIN = '''
"""Disable the launcher's WinRM HTTPS set-up."""
from pytest_imagebuild.azure import launcher


def _trust_the_image(compute, group, vm_name):
    return ""


launcher.reset_winrm_https = _trust_the_image
'''


def _template(tmp_path: Path) -> Path:
    """webserver.json with a short WinRM timeout and the scripts' paths made absolute."""
    data = json.loads((EXAMPLES / "webserver.json").read_text())
    data["builders"][0]["winrm_timeout"] = "5s"
    for provisioner in data["provisioners"]:
        if "scripts" in provisioner:
            provisioner["scripts"] = [
                s.replace("{{template_dir}}", str(EXAMPLES)) for s in provisioner["scripts"]
            ]
    path = tmp_path / "webserver.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def _run(azure: Standin, tmp_path: Path, *extra: str, env: dict[str, str]) -> tuple[int, str]:
    create_image_group(azure, "Packer-Poc-Mauri-RG")
    args = [
        f"--basetemp={tmp_path / 'base'}",
        "-o",
        f"image_cassette_dir={tmp_path / 'cassettes'}",
        "-rA",
        "--image-template",
        str(_template(tmp_path)),
        str(EXAMPLES / "test_webserver.py"),
        *extra,
    ]
    return run_pytest(azure, args, cwd=tmp_path, env=env)


def test_without_the_listener_set_up_the_launch_cannot_connect(
    fresh_azure: Standin, tmp_path: Path
) -> None:
    (tmp_path / "no_listener_reset.py").write_text(NO_RESET_PLUGIN)
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    code, output = _run(
        fresh_azure, tmp_path, "-p", "no_listener_reset", env={"PYTHONPATH": path}
    )
    assert code != 0, output
    assert "Timed out after 5s waiting for WinRM on https://" in output, output
    assert "port=5986): Failed to establish a new connectio" in output, output
    assert "2 passed, 3 errors" in output.splitlines()[-1], output  # validate, build; 3 smoke
    launched = [
        e.path.rsplit("/", 1)[1]
        for e in fresh_azure.log.find(method="PUT", path_contains="/imagebuild-launch-")
        if e.path.count("/") == 4
    ]
    assert len(launched) == 1, output
    assert not fresh_azure.state.group_exists(launched[0]), "the failed launch was not deleted"


def test_with_the_listener_set_up_the_smoke_tests_pass(
    fresh_azure: Standin, tmp_path: Path
) -> None:
    code, output = _run(fresh_azure, tmp_path, env={})
    assert code == 0, output
    assert "Setting up the WinRM HTTPS listener through Run Command" in output
    assert "Connected to WinRM!" in output
    assert "5 passed" in output.splitlines()[-1], output

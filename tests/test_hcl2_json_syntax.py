"""HCL2 in JSON syntax (`.pkr.json`): the same configuration as a `.pkr.hcl` file gives the same
builds, replays the same cassettes, and its problems point into the JSON file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_imagebuild.template import check_all, load_template, plan_builds
from tests.hcl2_compare import plan_summary

ROOT = Path(__file__).resolve().parent.parent
SYSPREP = [
    "while ((Get-Service RdAgent).Status -ne 'Running') { Start-Sleep -s 5 }",
    "while ((Get-Service WindowsAzureGuestAgent).Status -ne 'Running') { Start-Sleep -s 5 }",
    "if (Test-Path $Env:SystemRoot\\windows\\system32\\Sysprep\\unattend.xml) "
    "{ Remove-Item $Env:SystemRoot\\windows\\system32\\Sysprep\\unattend.xml -Force }",
    "& $Env:SystemRoot\\System32\\Sysprep\\Sysprep.exe /oobe /generalize /quiet /quit /mode:vm",
    "while ($true) { $imageState = (Get-ItemProperty HKLM:\\SOFTWARE\\Microsoft\\Windows\\"
    "CurrentVersion\\Setup\\State).ImageState; Write-Output $imageState; if ($imageState -eq "
    "'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE') { break }; Start-Sleep -s 10 }",
]


def credential(name: str) -> dict[str, Any]:
    return {"type": "string", "default": f'${{env("ARM_{name}")}}', "sensitive": True}


# examples/webserver.pkr.hcl, written in HCL's JSON syntax.
WEBSERVER: dict[str, Any] = {
    "//": "the seed template in JSON syntax",
    "packer": {
        "required_plugins": {
            "azure": {"source": "github.com/hashicorp/azure", "version": ">= 1.0.0"}
        }
    },
    "variable": {
        "client_id": credential("CLIENT_ID"),
        "client_secret": credential("CLIENT_SECRET"),
        "tenant_id": credential("TENANT_ID"),
        "subscription_id": credential("SUBSCRIPTION_ID"),
        "managed_image_resource_group_name": {"type": "string", "default": "Packer-Poc-Mauri-RG"},
        "managed_image_name": {"type": "string", "default": "win2016_iis"},
        "location": {"type": "string", "default": "East US 2"},
        "vm_size": {
            "type": "string",
            "default": "Standard_DS2_v2",
            "description": "Size of the temporary build VM.",
            "validation": {
                "condition": '${can(regex("^Standard_", var.vm_size))}',
                "error_message": "The vm_size must be an Azure size name such as Standard_DS2_v2.",
            },
        },
    },
    "source": {
        "azure-arm": {
            "azure-arm": {
                "client_id": "${var.client_id}",
                "client_secret": "${var.client_secret}",
                "tenant_id": "${var.tenant_id}",
                "subscription_id": "${var.subscription_id}",
                "managed_image_resource_group_name": "${var.managed_image_resource_group_name}",
                "managed_image_name": "${var.managed_image_name}",
                "os_type": "Windows",
                "image_publisher": "MicrosoftWindowsServer",
                "image_offer": "WindowsServer",
                "image_sku": "2016-Datacenter",
                "communicator": "winrm",
                "winrm_use_ssl": True,
                "winrm_insecure": True,
                "winrm_timeout": "3m",
                "winrm_username": "packer",
                "azure_tags": {"dept": "Engineering", "task": "Image deployment"},
                "location": "${var.location}",
                "vm_size": "${var.vm_size}",
            }
        }
    },
    "build": {
        "description": "Windows Server 2016 Datacenter with IIS, generalized with sysprep and "
        "captured as an Azure managed image.",
        "sources": ["source.azure-arm.azure-arm"],
        "provisioner": [
            {"powershell": {"scripts": ["${path.root}/scripts/install-iis.ps1"]}},
            {"powershell": {"timeout": "30m", "inline": SYSPREP}},
        ],
        "post-processor": {"manifest": {"output": "manifest.json", "strip_path": True}},
    },
}


def plans_of(path: Path) -> list[Any]:
    template = load_template(path)
    plans, problems = plan_builds(template)
    assert [p for p in problems if not p.warning] == []
    return [plan_summary(plan) for plan in plans]


def test_the_seed_in_json_syntax_gives_the_same_builds_as_the_pkr_hcl(tmp_path: Path) -> None:
    twin = tmp_path / "webserver.pkr.json"
    twin.write_text(json.dumps(WEBSERVER, indent=2))
    shutil.copytree(ROOT / "examples" / "scripts", tmp_path / "scripts")
    hcl = tmp_path / "webserver.pkr.hcl"
    shutil.copy(ROOT / "examples" / "webserver.pkr.hcl", hcl)
    assert plans_of(twin) == plans_of(hcl)
    assert [p.message for p in check_all(twin) if not p.warning] == []


@pytest.mark.skipif(
    not (ROOT / "cassettes" / "examples" / "webserver").is_dir(), reason="no cassettes"
)
def test_the_json_syntax_twin_replays_the_seed_cassettes_offline(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "examples").mkdir(parents=True)
    (project / "pytest.ini").write_text("[pytest]\n")
    shutil.copytree(ROOT / "examples" / "scripts", project / "examples" / "scripts")
    shutil.copy(ROOT / "examples" / "test_webserver.py", project / "examples")
    (project / "examples" / "webserver.pkr.json").write_text(json.dumps(WEBSERVER, indent=2))
    shutil.copytree(ROOT / "cassettes", project / "cassettes")
    drop = ("ARM_", "AZURE_", "IMAGEBUILD_AZURE_", "PKR_VAR_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "--image-template", "examples/webserver.pkr.json", "--image-record-mode=none",
         "--image-block-network", "-o", "image_cassette_dir=cassettes",
         f"--basetemp={tmp_path / 'run'}"],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "5 passed" in output  # validate, build and the three smoke tests


def write(tmp_path: Path, text: str, name: str = "t.pkr.json") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_problems_point_at_the_json_files_line_and_column(tmp_path: Path) -> None:
    text = (
        "{\n"
        '  "variable": {"size": {"default": "small"}},\n'
        '  "source": {"null": {"a": {"communicator": "none"}}},\n'
        '  "build": {\n'
        '    "sources": ["source.null.a"],\n'
        '    "provisioner": {"shell-local":\n'
        '      {"inline": ["echo ${var.sise}"], "environment_vars": ["A=${nope(1)}"]}}\n'
        "  },\n"
        '  "bogus": 1\n'
        "}\n"
    )
    path = write(tmp_path, text)
    messages = [f"{p.line}: {p.message}" for p in check_all(path) if not p.warning]
    assert len(messages) == 3, messages
    unknown = next(m for m in messages if "sise" in m)
    assert unknown.startswith("7: `var.sise` (column 27): ")
    assert "did you mean `var.size`?" in unknown
    assert any(m.startswith("7: `nope(1)` (column 66): Call to unknown function") for m in messages)
    assert any(m.startswith('9: Unsupported argument: "bogus" is not expected') for m in messages)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[]", "a .pkr.json file must hold one JSON object"),
        ('{"source": {"null": ', "JSON syntax error: unexpected end of file"),
        ('{"source": ["x"]}', 'the "source" block takes 2 label(s)'),
        ('{"build": "x"}', 'the "build" block must be a JSON object, not a string'),
        ('{"source": {"null": {"a": {"x": "${"}}}}', "Invalid expression at column"),
        ('{"variable": {"v": {"type": "strin"}}}', '"strin" is not a type'),
    ],
)
def test_bad_json_syntax_is_one_located_problem_never_a_traceback(
    tmp_path: Path, text: str, expected: str
) -> None:
    problems = [p for p in check_all(write(tmp_path, text)) if not p.warning]
    assert any(expected in p.message for p in problems), [p.message for p in problems]
    assert all(p.file.endswith("t.pkr.json") for p in problems)


def test_a_folder_loads_its_pkr_hcl_and_pkr_json_files_together(tmp_path: Path) -> None:
    write(tmp_path, 'variable "greeting" {\n  default = "hello"\n}\n', "variables.pkr.hcl")
    write(
        tmp_path,
        json.dumps(
            {
                "source": {"null": {"one": {"communicator": "none"}}},
                "build": {
                    "sources": ["source.null.one"],
                    "provisioner": {"shell-local": {"inline": ["echo ${var.greeting}"]}},
                },
            }
        ),
        "build.pkr.json",
    )
    (plan,) = plans_of(tmp_path)
    assert plan["provisioners"][0]["config"]["inline"] == ["echo hello"]


@pytest.mark.parametrize("syntax", ["hcl", "json"])
def test_an_expression_nested_thousands_deep_is_one_problem(tmp_path: Path, syntax: str) -> None:
    deep = "${" + "(" * 5000 + "1" + ")" * 5000 + "}"
    if syntax == "json":
        document = {
            "source": {"null": {"a": {"communicator": "none"}}},
            "build": {
                "sources": ["source.null.a"],
                "provisioner": {"shell-local": {"inline": [deep]}},
            },
        }
        path = write(tmp_path, json.dumps(document))
    else:
        path = write(
            tmp_path,
            'source "null" "a" {\n  communicator = "none"\n}\nbuild {\n'
            f'  sources = ["source.null.a"]\n  provisioner "shell-local" {{\n'
            f'    inline = ["{deep}"]\n  }}\n}}\n',
            "t.pkr.hcl",
        )
    problems = [p for p in check_all(path) if not p.warning]
    assert len(problems) == 1
    assert problems[0].message.endswith("the expression is nested more than 200 levels deep")
    assert len(problems[0].message) < 200  # the excerpt is cut short


def test_blocks_nested_thousands_deep_are_one_problem(tmp_path: Path) -> None:
    nested = "x {\n" * 5000 + "}\n" * 5000
    path = write(
        tmp_path,
        f'source "null" "a" {{\n  communicator = "none"\n{nested}}}\n'
        'build {\n  sources = ["source.null.a"]\n}\n',
        "t.pkr.hcl",
    )
    messages = [p.message for p in check_all(path) if not p.warning]
    assert "blocks are nested more than 100 deep" in messages

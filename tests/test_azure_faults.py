"""Failures injected at each stage of an azure-arm build fail the run with one clear paragraph,
and every resource group the run created receives a delete (or, with --image-on-error=abort, is
kept and named with the command that removes it).

Each scenario runs pytest in a subprocess against a fresh loopback Azure and is judged by
the stand-in's own state, never by mocks. Scenarios spend most of their time waiting
(Retry-After, backoff, WinRM timeouts), so the selected ones run a few at a time, each on
its own stand-in, before the tests look at their outcomes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from standin import Standin, start_standin
from standin.plugin_env import create_image_group, run_pytest, secrets_of

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
IMAGE_GROUP = "Packer-Poc-Mauri-RG"
IMAGE = "win2016_iis"


def template(tmp_path: Path, provisioners: list[dict[str, Any]] | None = None) -> Path:
    """webserver.json with a short WinRM timeout, optionally other provisioners."""
    data = json.loads((EXAMPLES / "webserver.json").read_text())
    data["builders"][0]["winrm_timeout"] = "2s"
    for provisioner in data["provisioners"]:
        provisioner["scripts"] = [
            s.replace("{{template_dir}}", str(EXAMPLES)) for s in provisioner.get("scripts", [])
        ] or provisioner.pop("scripts", None)
        if provisioner["scripts"] is None:
            del provisioner["scripts"]
    if provisioners is not None:
        data["provisioners"] = provisioners
    path = tmp_path / "webserver.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def run(
    azure: Standin,
    tmp_path: Path,
    *extra: str,
    smoke: bool = False,
    env: dict[str, str] | None = None,
) -> tuple[int, str]:
    args = [
        f"--basetemp={tmp_path / 'base'}",
        "-o",
        f"image_cassette_dir={tmp_path / 'cassettes'}",
        "--image-template",
        str(tmp_path / "webserver.json"),
        *extra,
    ]
    if smoke:
        args.append(str(EXAMPLES / "test_webserver.py"))
    return run_pytest(azure, args, cwd=tmp_path, env=env)


@dataclass
class Scenario:
    """What to break before a run, and how to run it."""

    inject: Callable[[Standin], Any] = lambda azure: None
    provisioners: list[dict[str, Any]] | None = None
    builder: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    smoke: bool = False
    env: Callable[[Standin], dict[str, str]] = lambda azure: {}


@dataclass
class Outcome:
    azure: Standin
    code: int
    output: str


def play(name: str, scenario: Scenario, tmp_path: Path) -> Outcome:
    with start_standin(fast=True) as azure:
        create_image_group(azure, IMAGE_GROUP)
        path = template(tmp_path, scenario.provisioners)
        if scenario.builder:
            data = json.loads(path.read_text())
            data["builders"][0].update(scenario.builder)
            path.write_text(json.dumps(data))
        scenario.inject(azure)
        code, output = run(
            azure, tmp_path, *scenario.args, smoke=scenario.smoke, env=scenario.env(azure)
        )
    return Outcome(azure, code, output)


def failure_paragraph(output: str, item: str = "build[azure-arm]") -> str:
    """The report pytest printed for a failed item: the text under its ____ header."""
    match = re.search(
        rf"_{{3,}} [^\n]*{re.escape(item)}[^\n]* _{{3,}}\n(.*?)\n(?:_{{3,}}|={{3,}}|-{{3,}})",
        output,
        re.S,
    )
    assert match, output[-4000:]
    return match.group(1).strip()


def groups_put(azure: Standin) -> set[str]:
    """Every resource group the run tried to create (the image group is the test's own)."""
    names = {
        e.path.rsplit("/", 1)[1]
        for e in azure.log.find(method="PUT", path_contains="/resourcegroups/")
        if e.path.count("/") == 4
    }
    return names - {IMAGE_GROUP}


def assert_all_deleted(azure: Standin) -> set[str]:
    created = groups_put(azure)
    assert created
    for group in created:
        assert group in azure.state.deleted_groups, group
        assert not azure.state.group_exists(group), group
    assert set(azure.state.groups()) == {IMAGE_GROUP}
    return created


def assert_no_secrets(azure: Standin, output: str) -> None:
    values = {**secrets_of(azure), **dict(enumerate(azure.state.secrets_issued))}
    assert not [name for name, value in values.items() if value in output]


def assert_one_paragraph(text: str, *needles: str) -> None:
    assert "Traceback" not in text and "\n\n" not in text, text
    for needle in needles:
        assert needle in text, text


# name -> (what breaks, what the one-paragraph error must say)
STAGE_FAULTS: dict[str, tuple[Callable[[Standin], Any], tuple[str, ...]]] = {
    "throttled-vm-create": (
        lambda a: a.faults.add(
            method="PUT", path_contains="/virtualMachines/pkrvm", status=429, times=None
        ),
        ("Creating virtual machine 'pkrvm", "[HTTP 429]", "throttling"),
    ),
    "server-error-on-nic": (
        lambda a: a.faults.add(
            method="PUT", path_contains="/networkInterfaces/", status=500, times=None
        ),
        ("Creating network interface", "(InternalServerError)", "[HTTP 500]", "transient"),
    ),
    "conflict-on-deallocate": (
        lambda a: a.faults.add(method="POST", path_contains="/deallocate", status=409, times=None),
        ("Deallocating the virtual machine failed: (Conflict)", "[HTTP 409]"),
    ),
    "vm-provisioning-failed": (
        lambda a: a.faults.fail_provisioning("/virtualMachines/pkrvm"),
        ("Creating virtual machine", "(OSProvisioningTimedOut)"),
    ),
    "vnet-provisioning-failed": (
        lambda a: a.faults.fail_provisioning("/virtualNetworks/"),
        ("Creating virtual network", "(InternalServerError) An error occurred."),
    ),
    "run-command-throttled": (
        lambda a: a.faults.add(method="POST", path_contains="/runCommand", status=429, times=None),
        ("Configuring the WinRM HTTPS listener failed", "[HTTP 429]"),
    ),
    "winrm-refused": (
        lambda a: a.faults.winrm_timeout(mode="refuse"),
        ("Timed out after", "waiting for WinRM on https://127.0.0."),
    ),
    "winrm-operation-timeouts": (
        lambda a: a.faults.winrm_timeout(mode="operation_timeout"),
        ("Timed out after", "waiting for WinRM"),
    ),
}
SCENARIOS: dict[str, Scenario] = {
    name: Scenario(inject) for name, (inject, _) in STAGE_FAULTS.items()
}
SCENARIOS.update(
    {
        "transient": Scenario(
            lambda a: (
                a.faults.add(
                    method="PUT", path_contains="/resourcegroups/packer-resource-group-", times=1
                ),
                a.faults.add(
                    method="PUT", path_contains="/publicIPAddresses/", status=503, times=1
                ),
            )
        ),
        "image-capture-failed": Scenario(lambda a: a.faults.fail_provisioning(f"/images/{IMAGE}")),
        "provisioner-fails": Scenario(
            provisioners=[{"type": "powershell", "inline": ["Write-Output 'half done'", "exit 3"]}]
        ),
        "launch-fails": Scenario(
            lambda a: a.faults.fail_provisioning("/resourceGroups/imagebuild-launch-", times=None),
            smoke=True,
        ),
        "abort": Scenario(
            lambda a: a.faults.fail_provisioning("/virtualMachines/pkrvm"),
            args=("--image-on-error=abort",),
        ),
        "wrong-credentials": Scenario(
            env=lambda a: {"ARM_CLIENT_SECRET": "Wr0ng-" + a.client_secret[::-1]}
        ),
        "group-delete-fails": Scenario(
            lambda a: (
                a.faults.fail_provisioning("/virtualMachines/pkrvm"),
                a.faults.add(
                    method="DELETE",
                    path_contains="/resourcegroups/packer-resource-group-",
                    status=500,
                    times=None,
                ),
            )
        ),
        "existing-temp-group": Scenario(
            lambda a: create_image_group(a, "precious-rg"),
            builder={"temp_resource_group_name": "precious-rg"},
        ),
    }
)
PARALLEL = 3


@pytest.fixture(scope="module")
def outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Outcome]:
    """Play every scenario a selected test of this module needs, a few at a time."""
    wanted = sorted(
        {
            _scenario_of(item)
            for item in request.session.items
            if getattr(item, "module", None) is request.module
        }
    )
    with ThreadPoolExecutor(PARALLEL) as pool:
        futures = {
            name: pool.submit(play, name, SCENARIOS[name], tmp_path_factory.mktemp(name))
            for name in wanted
        }
        return {name: future.result() for name, future in futures.items()}


def scenario(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Name the scenario a test looks at (parametrized tests name it by their `case`)."""

    def mark(test: Callable[..., None]) -> Callable[..., None]:
        test.scenario = name  # type: ignore[attr-defined]
        return test

    return mark


def _scenario_of(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    return getattr(item.function, "scenario", None) or callspec.params["case"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", list(STAGE_FAULTS))
def test_a_fault_fails_the_build_and_its_groups_are_deleted(
    outcomes: dict[str, Outcome], case: str
) -> None:
    o = outcomes[case]
    assert o.code == 1, o.output[-4000:]
    assert_one_paragraph(failure_paragraph(o.output), *STAGE_FAULTS[case][1])
    assert_all_deleted(o.azure)
    assert "Resource group has been deleted." in o.output
    assert_no_secrets(o.azure, o.output)


@scenario("transient")
def test_transient_throttling_and_errors_are_retried(outcomes: dict[str, Outcome]) -> None:
    o = outcomes["transient"]
    assert o.code == 0, o.output[-4000:]
    puts = o.azure.log.find(method="PUT", path_contains="/publicIPAddresses/")
    assert [e.status for e in puts][:2] == [503, 201]
    groups = o.azure.log.find(method="PUT", path_contains="/resourcegroups/packer-resource-group-")
    assert [e.status for e in groups if e.path.count("/") == 4] == [429, 201]
    assert IMAGE in " ".join(o.azure.state.resources(IMAGE_GROUP))
    assert_all_deleted(o.azure)


@scenario("image-capture-failed")
def test_a_failed_image_capture_leaves_no_image_behind(outcomes: dict[str, Outcome]) -> None:
    o = outcomes["image-capture-failed"]
    assert o.code == 1
    assert_one_paragraph(failure_paragraph(o.output), f"Capturing managed image '{IMAGE}' failed")
    assert o.azure.state.resources(IMAGE_GROUP) == []
    assert_all_deleted(o.azure)


@scenario("provisioner-fails")
def test_a_failing_provisioner_fails_the_build(outcomes: dict[str, Outcome]) -> None:
    o = outcomes["provisioner-fails"]
    assert o.code == 1
    assert_one_paragraph(
        failure_paragraph(o.output),
        "Script exited with non-zero exit status: 3",
        "(last output: half done)",
    )
    assert_all_deleted(o.azure)


@scenario("launch-fails")
def test_a_failed_launch_errors_the_smoke_tests_and_deletes_both_groups(
    outcomes: dict[str, Outcome],
) -> None:
    o = outcomes["launch-fails"]
    assert o.code == 1
    paragraph = failure_paragraph(o.output, "test_iis_feature_is_installed")
    assert_one_paragraph(paragraph, "Creating virtual network", "(InternalServerError)")
    created = assert_all_deleted(o.azure)
    assert any(g.startswith("imagebuild-launch-") for g in created)
    assert any(g.startswith("packer-Resource-Group-") for g in created)
    assert_no_secrets(o.azure, o.output)


@scenario("abort")
def test_on_error_abort_keeps_the_groups_and_says_how_to_delete_them(
    outcomes: dict[str, Outcome],
) -> None:
    o = outcomes["abort"]
    assert o.code == 1
    (group,) = groups_put(o.azure)
    assert o.azure.state.group_exists(group) and group not in o.azure.state.deleted_groups
    assert f"az group delete --name {group} --yes" in o.output
    assert_no_secrets(o.azure, o.output)


@scenario("wrong-credentials")
def test_wrong_credentials_fail_before_anything_is_created(outcomes: dict[str, Outcome]) -> None:
    o = outcomes["wrong-credentials"]
    assert o.code == 1
    assert_one_paragraph(
        failure_paragraph(o.output), "Getting tokens failed", "rejected the credentials"
    )
    assert groups_put(o.azure) == set()
    assert "Wr0ng-" + o.azure.client_secret[::-1] not in o.output
    assert_no_secrets(o.azure, o.output)


@scenario("group-delete-fails")
def test_a_failing_group_delete_says_how_to_delete_it_by_hand(
    outcomes: dict[str, Outcome],
) -> None:
    o = outcomes["group-delete-fails"]
    assert o.code == 1
    (group,) = groups_put(o.azure)
    assert_one_paragraph(
        failure_paragraph(o.output),
        "OSProvisioningTimedOut",  # what broke the build stays in the message
        "cleanup failed, resources may be left behind",
        f"az group delete --name {group} --yes",
    )
    assert o.azure.state.group_exists(group)
    assert_no_secrets(o.azure, o.output)


@scenario("existing-temp-group")
def test_an_existing_temp_resource_group_is_never_taken_over(
    outcomes: dict[str, Outcome],
) -> None:
    o = outcomes["existing-temp-group"]
    assert o.code == 1
    assert_one_paragraph(
        failure_paragraph(o.output), "the temporary resource group 'precious-rg' already exists"
    )
    assert o.azure.state.group_exists("precious-rg")
    assert "precious-rg" not in o.azure.state.deleted_groups

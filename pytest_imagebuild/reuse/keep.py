"""--image-keep: the smoke-test VM outlives the tests, and --image-reuse boots no new one.

A VM that may be kept is launched with its files (key, overlay, password file) in the state
directory, not the base temp pytest deletes; kept, its process is let go (it outlives
pytest, as with --image-on-error=abort), its journal entries are released (so the janitor
does not call it a leak) and it is written to the registry, with the exact command that
reaches it. A later run with --image-reuse and the same build key tests that VM again.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from .. import multibuild, process
from ..buildkey import short
from ..cleanup import pids
from ..launch import LaunchedVM
from ..multistep import Artifact
from ..pipeline import RecordedLauncher
from ..template.model import BuildPlan
from .flow import KEY_DATA, cache_of, reuser_for
from .registry import KeptThing, Registry
from .settings import ReuseSettings

POLICY = "imagebuild-keep"


class KeepPolicy:
    """Remembers which modules had a failing test; prints kept VMs at the end."""

    def __init__(self) -> None:
        self.failed_modules: set[str] = set()
        self.kept: list[str] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[Any]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """A failure counts for its module and, run per build, for its module and build."""
        report = yield
        if report.failed:
            self.failed_modules.add(item.nodeid.split("::", 1)[0])
            self.failed_modules.add(multibuild.xdist_group(item))
        return report

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.kept:
            terminalreporter.section("kept VMs")
            for line in self.kept:
                terminalreporter.line(line)


def reach_lines(vm: LaunchedVM, password_file: Path | None) -> list[str]:
    """The commands that log in to a VM, exactly as a user types them."""
    host, port = vm.address(5986 if vm.communicator == "winrm" else 22)
    if vm.communicator == "winrm":
        lines = [
            f"Enter-PSSession -ComputerName {host} -Port {port} -UseSSL -Credential {vm.username} "
            "-SessionOption (New-PSSessionOption -SkipCACheck -SkipCNCheck)",
            f"mstsc /v:{host}",
        ]
    else:
        key = f"-i {vm.key_file} " if vm.key_file else ""
        port_part = f"-p {port} " if port != 22 else ""
        lines = [
            f"ssh {key}{port_part}-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
            f"{vm.username}@{host}"
        ]
    if password_file is not None:
        lines.append(f"password of {vm.username}: in {password_file}")
    return lines


@dataclass
class VMSession:
    """A module's VM: launched (and torn down or kept), or a kept one reused."""

    vm: LaunchedVM
    finish: Callable[[bool], None]


def _vm_from(thing: KeptThing) -> LaunchedVM:
    fields = dict(thing.data["vm"])
    fields["ports"] = {int(k): (v[0], int(v[1])) for k, v in fields.get("ports", {}).items()}
    fields["key_file"] = Path(fields["key_file"]) if fields.get("key_file") else None
    password_file = thing.data.get("password_file")
    if password_file:
        fields["password"] = Path(password_file).read_text(encoding="utf-8")
    return LaunchedVM(**fields)


def open_vm(
    launcher: RecordedLauncher,
    plan: BuildPlan,
    image: Artifact,
    settings: ReuseSettings,
    policy: KeepPolicy | None,
    say: Callable[[str], None],
) -> VMSession:
    key = str(image.data.get(KEY_DATA) or "")
    registry = Registry()
    reuser = reuser_for(plan.type, cache_of(settings))
    if settings.reuse and key and reuser is not None:
        thing = registry.kept_vm(key)
        if thing is not None and reuser.vm_alive(thing):
            say(f"reusing kept VM {thing.name} (key {short(key)}): {thing.reach[0]}")
            return VMSession(_vm_from(thing), lambda failed: None)
    if settings.keep == "never" or not key:
        vm = launcher.launch()
        return VMSession(vm, lambda failed: launcher.teardown())
    folder_of: dict[str, Path] = {}
    prepare = launcher.prepare

    def prepare_in_state_dir(p: BuildPlan, name: str, secrets: set[str]) -> Any:
        ui, _, run, journal = prepare(p, name, secrets)
        folder_of["folder"] = registry.folder_for(f"{plan.name}-{short(key)}")
        return ui, folder_of["folder"], run, journal

    launcher.prepare = prepare_in_state_dir
    vm = launcher.launch()

    def finish(failed: bool) -> None:
        if not (settings.keep == "always" or (settings.keep == "on-failure" and failed)):
            try:
                launcher.teardown()
            finally:
                shutil.rmtree(folder_of["folder"], ignore_errors=True)
            return
        _keep(launcher, vm, plan, key, folder_of["folder"], registry, policy, say)

    return VMSession(vm, finish)


def _keep(
    launcher: RecordedLauncher,
    vm: LaunchedVM,
    plan: BuildPlan,
    key: str,
    folder: Path,
    registry: Registry,
    policy: KeepPolicy | None,
    say: Callable[[str], None],
) -> None:
    data: dict[str, Any] = {"folder": str(folder), **{k: v for k, v in vm.data.items()}}
    pid = int(vm.data.get("pid", 0) or 0)
    if pid:
        process.keep_running(pid)
        data["started"] = pids.start_time(pid)
    password_file = None
    if vm.password:
        password_file = folder / "password"
        descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(vm.password)
        data["password_file"] = str(password_file)
    fields = asdict(vm)
    fields.pop("password", None)
    fields["key_file"] = str(vm.key_file) if vm.key_file else ""
    fields["ports"] = {str(k): list(v) for k, v in vm.ports.items()}
    data["vm"] = fields
    tracked = launcher._launcher
    if tracked is not None and hasattr(tracked, "recorder"):
        data["resources"] = [name for _, name in tracked.recorder.made]
        tracked.recorder.release_all()  # kept on purpose: not a leak
    group = vm.data.get("resource_group")
    where = f"Azure resource group {group}" if group else "local"
    reach = reach_lines(vm, password_file)
    thing = KeptThing(
        name=vm.name,
        kind="vm",
        key=key,
        builder_type=plan.type,
        template=str(plan.template.path),
        build=plan.name,
        where=where,
        reach=reach,
        data=data,
    )
    registry.add(thing)
    lines = [f"kept VM {vm.name} ({where}, key {short(key)}); log in with:"]
    lines += [f"  {line}" for line in reach]
    lines.append(f"  remove it with: python -m pytest_imagebuild destroy {vm.name}")
    for line in lines:
        say(line)
    if policy is not None:
        policy.kept.extend(lines)

"""The ``host`` of a null build: the machine the build provisioned, nothing started or stopped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import BuildError
from ..launch import LaunchedVM
from ..multistep import Artifact, RunOptions
from ..template.model import BuildPlan
from ..ui import BuildUI
from .config import NullConfig


@dataclass
class ExistingHost(LaunchedVM):
    """A LaunchedVM whose testinfra spec carries the template's password and WinRM scheme."""

    use_ssl: bool = True

    def testinfra_spec(self) -> tuple[str, dict[str, Any]]:
        host, port = self.address(5986 if self.communicator == "winrm" else 22)
        user = quote(self.username, safe="")
        login = f"{user}:{quote(self.password, safe='')}" if self.password else user
        if self.communicator == "winrm":
            scheme = "no_verify_ssl=true" if self.use_ssl else "no_ssl=true"
            return f"winrm://{login}@{host}:{port}?{scheme}", {}
        kwargs = {"ssh_identity_file": str(self.key_file)} if self.key_file else {}
        return f"paramiko://{login}@{host}:{port}", kwargs


class NullLauncher:
    def __init__(
        self, plan: BuildPlan, artifact: Artifact, ui: BuildUI, workdir: Path, run: RunOptions
    ):
        self.artifact, self.ui = artifact, ui
        self.config = NullConfig.from_plan(artifact.build_name, plan.config)

    def launch(self) -> LaunchedVM:
        cfg = self.config
        if cfg.communicator == "none":
            raise BuildError(
                f"null builder {cfg.build_name}: communicator 'none' names no host for tests"
            )
        self.ui.say(f"No VM to start: tests use the build's host, {cfg.label} on {cfg.host}")
        guest_port = 5986 if cfg.communicator == "winrm" else 22
        return ExistingHost(
            name=cfg.host,
            host=cfg.host,
            username=cfg.username,
            communicator=cfg.communicator,
            password=cfg.password,
            key_file=cfg.private_key_file,
            ports={guest_port: (cfg.host, cfg.port)},
            use_ssl=cfg.use_ssl,
        )

    def teardown(self) -> None:
        """The machine was there before the tests and stays after them."""

"""What a launched VM looks like to tests, whichever builder made its image."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from ..builders.base import Artifact
from ..errors import ImagebuildError
from ..ui import BuildUI


@dataclass
class LaunchedVM:
    """Where a VM answers and how to log in; `address(port)` maps guest ports to reachable ones."""

    name: str
    host: str
    username: str
    communicator: str
    password: str = field(default="", repr=False)
    key_file: Path | None = None
    ports: dict[int, tuple[str, int]] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def public_ip(self) -> str:
        return self.host

    def address(self, guest_port: int) -> tuple[str, int]:
        return self.ports.get(guest_port, (self.host, guest_port))

    def url(self, guest_port: int = 80, path: str = "/", scheme: str = "http") -> str:
        host, port = self.address(guest_port)
        return f"{scheme}://{host}:{port}{path}"

    def testinfra_spec(self) -> tuple[str, dict[str, Any]]:
        """A testinfra host spec and keyword arguments for testinfra.get_host."""
        if self.communicator == "winrm":
            host, port = self.address(5986)
            user = quote(self.username, safe="")
            password = quote(self.password, safe="")
            return f"winrm://{user}:{password}@{host}:{port}?no_verify_ssl=true", {}
        host, port = self.address(22)
        kwargs: dict[str, Any] = {}
        if self.key_file:
            kwargs["ssh_identity_file"] = str(self.key_file)
        return f"paramiko://{self.username}@{host}:{port}", kwargs


class Launcher(Protocol):
    def launch(self) -> LaunchedVM: ...

    def teardown(self) -> None: ...


LAUNCHERS: dict[str, str] = {
    "transcend.qemu": "pytest_imagebuild.launchers.qemu:QemuLauncher",
    "Azure.ResourceManagement.VMImage": "pytest_imagebuild.launchers.azure:AzureLauncher",
    "fnoeding.null": "pytest_imagebuild.null.launcher:NullLauncher",
}


def launcher_for(
    artifact: Artifact, ui: BuildUI, workdir: Path, options: dict[str, Any]
) -> Launcher:
    target = LAUNCHERS.get(artifact.builder_type)
    if target is None:
        raise ImagebuildError(f"no launcher can start a VM from a {artifact.builder_type} artifact")
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(artifact, ui, workdir, options)

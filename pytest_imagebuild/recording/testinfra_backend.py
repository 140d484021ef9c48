"""A testinfra host whose commands go through the recording SSH communicator.

testinfra's own paramiko backend opens its own connection, which no cassette could replay;
this backend runs each command through ``RecordingCommunicator.execute`` instead, so smoke
tests of a recorded builder record and replay their SSH like the build does, and replay with
the network off.
"""

from __future__ import annotations

from typing import Any

from testinfra.backend.base import BaseBackend, CommandResult
from testinfra.host import Host

from ..communicators.ssh import SSHCommunicator
from ..launch import LaunchedVM
from .communicator import RecordingCommunicator


class RecordedSSHBackend(BaseBackend):
    """Behaves as testinfra's paramiko backend does (same name), minus the socket."""

    NAME = "paramiko"

    def __init__(self, communicator: RecordingCommunicator, hostname: str, **kwargs: Any):
        super().__init__(hostname, **kwargs)
        self.communicator = communicator

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        command = self.get_command(command, *args)
        status, stdout, stderr = self.communicator.execute(command)
        return self.result(status, self.encode(command), stdout, stderr)


def recorded_host(vm: LaunchedVM) -> Host:
    """A testinfra Host for ``vm`` over SSH that records and replays with the cassettes."""
    host, port = vm.address(22)
    inner = SSHCommunicator(
        host,
        port,
        vm.username,
        password=vm.password or None if not vm.key_file else None,
        private_key_file=vm.key_file,
    )
    backend = RecordedSSHBackend(RecordingCommunicator(inner), host)
    testinfra_host = Host(backend)
    backend.set_host(testinfra_host)
    return testinfra_host

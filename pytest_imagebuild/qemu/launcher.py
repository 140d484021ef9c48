"""A throwaway VM from a qemu artifact: copy-on-write overlay, fresh seed and key, loopback ports.

The image itself is never written: every launch boots its own qcow2 overlay, so tests cannot
change what the next test (or the next session) sees, and teardown is just "kill and delete".
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from ..clock import clock_of
from ..communicators.keys import generate_key_pair
from ..communicators.ssh import SSHCommunicator
from ..communicators.wait_reports import reporting_waits
from ..errors import BuildError
from ..launch import LaunchedVM
from ..multistep import Artifact, RunOptions
from ..template.model import BuildPlan
from ..ui import BuildUI
from . import accel, disk
from .config import QemuConfig
from .machine import QemuMachine, free_port
from .seed import cloud_init_seed, make_cd

GUEST_PORTS = (22, 80)


class QemuLauncher:
    def __init__(
        self, plan: BuildPlan, artifact: Artifact, ui: BuildUI, workdir: Path, run: RunOptions
    ):
        self.artifact, self.ui, self.workdir = artifact, ui, Path(workdir)
        self.options = run
        self.config = QemuConfig.from_plan(artifact.build_name, plan.config)
        self.note_created = run.note_created
        self.machine: QemuMachine | None = None
        self.tmp: Path | None = None

    def launch(self) -> LaunchedVM:
        """Boot and wait for SSH; whatever fails on the way is torn down before raising."""
        try:
            return self._launch()
        except BaseException:
            self.teardown()
            raise

    def _launch(self) -> LaunchedVM:
        name = f"{self.artifact.build_name}-vm-{uuid.uuid4().hex[:8]}"
        self.tmp = self.workdir / name
        self._note("path", str(self.tmp))
        self.tmp.mkdir(mode=0o700, parents=True)
        overlay = self.tmp / "disk.qcow2"
        disk.overlay(Path(self.artifact.data["path"]), overlay)
        user = self.artifact.data.get("ssh_username") or self.config.ssh_username or "debian"
        key = generate_key_pair(self.tmp)
        seed = make_cd(
            self.tmp / "seed.iso",
            cd_content=cloud_init_seed(user, key.public_key, hostname=self.artifact.build_name),
        )
        ports = {guest: free_port() for guest in GUEST_PORTS}
        chosen = accel.choose(self.config.accelerator)
        self.machine = QemuMachine(
            overlay,
            "qcow2",
            memory_mb=self.config.memory_mb,
            cpus=self.config.cpus,
            accelerator=chosen.qemu_name,
            ssh_host_port=ports[22],
            forwards={guest: host for guest, host in ports.items() if guest != 22},
            serial_log=self.tmp / "serial.log",
            cdrom=seed,
            net_device=self.config.net_device,
            disk_interface=self.config.disk_interface,
            qemuargs=self.config.qemuargs,
            name=name,
            machine_type=self.config.machine_type,
            cache=self.config.disk_cache,
            discard=self.config.disk_discard,
            detect_zeroes=self.config.disk_detect_zeroes,
            binary=self.config.qemu_binary,
        )
        self.ui.say(f"Booting {name} from {Path(self.artifact.data['path']).name}...")
        self.machine.start()
        self._note("process", str(self.machine.pid))
        self._wait_for_ssh(user, key.private_key_file, chosen)
        self.ui.say(f"VM {name} is up: SSH on 127.0.0.1:{ports[22]}, port 80 on {ports[80]}")
        return LaunchedVM(
            name=name,
            host="127.0.0.1",
            username=user,
            communicator="ssh",
            key_file=key.private_key_file,
            ports={guest: ("127.0.0.1", host) for guest, host in ports.items()},
            data={"pid": self.machine.pid, "accelerator": self.machine.accelerator},
        )

    def _wait_for_ssh(self, user: str, key_file: Path, chosen: accel.Accelerator) -> None:
        assert self.machine is not None
        machine, clock = self.machine, clock_of(self.options)
        comm = SSHCommunicator(
            "127.0.0.1", machine.ssh_host_port, user, private_key_file=key_file, poll_interval=0.5
        )
        for attempt in (1, 2):
            started = clock.monotonic()
            try:
                with reporting_waits(self.ui.say):
                    comm.wait_ready(
                        self.config.ssh_timeout,
                        machine.serial_tail,
                        lambda t0=started: accel.boot_failure(
                            machine, chosen, clock.monotonic() - t0
                        ),
                    )
                break
            except BuildError as error:
                if attempt == 2 or not accel.falls_back(machine, chosen):
                    raise BuildError(f"VM from {self.artifact.build_name}: {error}") from None
                accel.remember_kvm_broken(str(error))
                self.ui.say(f"Warning: the KVM guest did not come up, falling back to TCG: {error}")
                machine.restart("tcg")
                self._note("process", str(machine.pid))
            finally:
                comm.close()

    def _note(self, kind: str, name: str) -> None:
        if self.note_created:
            self.note_created(kind, name)

    def teardown(self) -> None:
        """Kill QEMU (the overlay is thrown away, so no clean shutdown) and delete every file."""
        if self.machine is not None:
            self.machine.kill()
            self.machine = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

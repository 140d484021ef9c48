"""The qemu builder's steps, in Packer's order; each undoes what it made in ``cleanup``.

State shared between steps is one typed ``QemuState`` (``qemu_state(ctx)``); the
communicator the provisioners use is the generic ``ctx.state["communicator"]``.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..clock import clock_of
from ..communicators.keys import KeyPair, generate_key_pair
from ..communicators.ssh import SSHCommunicator
from ..errors import BuildError
from ..multistep import BuildContext
from ..provision_steps import StepConnect
from ..safepath import inside
from ..template.unsupported import refusal
from . import accel, disk, source
from .config import QemuConfig
from .machine import QemuMachine, free_port
from .rules import unsupported
from .seed import DEFAULT_LABEL, authorize_key, make_cd, seed_user_data


@dataclass
class QemuState:
    """What the qemu steps hand each other, from the config to the running machine."""

    config: QemuConfig
    output_dir: Path | None = None
    tmp: Path | None = None
    source: Path | None = None
    disk: Path | None = None
    key: KeyPair | None = None
    cdrom: Path | None = None
    accelerator: Any = None  # accel.Choice: what was asked for, with its fallback
    machine: QemuMachine | None = None
    machine_accelerator: str = ""  # what the machine really ran with
    artifact_ready: bool = False


def qemu_state(ctx: BuildContext) -> QemuState:
    return ctx.state["qemu"]


def config_of(ctx: BuildContext) -> QemuConfig:
    return qemu_state(ctx).config


def _take(ctx: BuildContext, name: str) -> Any:
    """A state field's value, cleared (what a cleanup hands on exactly once)."""
    state = qemu_state(ctx)
    value = getattr(state, name)
    setattr(state, name, None)
    return value


class StepPrepare:
    """Check what this builder cannot do before touching anything; make the output directory."""

    name = "StepPrepareOutputDir"

    def run(self, ctx: BuildContext) -> None:
        state = qemu_state(ctx)
        cfg = config_of(ctx)
        missing = unsupported(ctx.plan.config)
        if missing:
            raise refusal("qemu", missing, "Nothing was started.")
        if cfg.communicator not in ("ssh", "none"):
            raise BuildError(f"qemu: communicator {cfg.communicator!r} is not supported.")
        if cfg.format not in ("qcow2", "raw"):
            raise BuildError(f"qemu: format {cfg.format!r} is not one of qcow2, raw.")
        if cfg.use_backing_file and cfg.format != "qcow2":
            raise BuildError("qemu: use_backing_file needs format qcow2.")
        output = Path(cfg.output_directory)
        # A relative output_directory stays in the build's work folder; an absolute one is
        # where the template explicitly asks for it.
        output = output if output.is_absolute() else inside(ctx.workdir, output, "the output")
        if output.exists() and ctx.options.force:
            ctx.ui.say("Deleting previous output directory...")  # packer build -force
            shutil.rmtree(output)
        if output.exists():
            raise BuildError(f"Output directory '{output}' already exists. It must not exist.")
        ctx.note_created("path", str(output))
        output.mkdir(parents=True)
        state.output_dir = output
        tmp = ctx.workdir / f"qemu-tmp-{uuid.uuid4().hex[:8]}"
        ctx.note_created("path", str(tmp))
        tmp.mkdir(mode=0o700)
        state.tmp = tmp

    def cleanup(self, ctx: BuildContext) -> None:
        state = qemu_state(ctx)
        tmp = _take(ctx, "tmp")
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        output = state.output_dir
        if output is not None and not state.artifact_ready:
            ctx.ui.say("Deleting output directory...")
            shutil.rmtree(output, ignore_errors=True)


class StepSourceImage:
    """Find the source image and check it against ``iso_checksum``."""

    name = "StepDownload"

    def run(self, ctx: BuildContext) -> None:
        state = qemu_state(ctx)
        cfg = config_of(ctx)
        ctx.ui.say("Retrieving ISO")
        image = source.local_file(cfg.iso_url)
        checked = source.verify(image, cfg.iso_checksum)
        ctx.ui.message(f"Using {image}" + (f" ({checked} verified)" if checked else ""))
        state.source = image

    def cleanup(self, ctx: BuildContext) -> None:
        return None


class StepCreateDisk:
    """Overlay or copy of the source image, then resized to ``disk_size``."""

    name = "StepCopyDisk"

    def run(self, ctx: BuildContext) -> None:
        state = qemu_state(ctx)
        cfg = config_of(ctx)
        target = inside(state.output_dir, Path(cfg.vm_name), "the disk image (vm_name)")
        args = cfg.qemu_img_args
        if cfg.use_backing_file:
            ctx.ui.say(f"Creating an overlay of {state.source.name}...")
            disk.overlay(state.source, target, args.get("create"))
        else:
            ctx.ui.say("Copying hard drive...")
            disk.copy(state.source, target, cfg.format, args.get("convert"))
        state.disk = target
        if not cfg.skip_resize_disk and disk.grow(
            target, cfg.format, cfg.disk_size_mb, args.get("resize")
        ):
            ctx.ui.say("Resizing hard drive...")

    def cleanup(self, ctx: BuildContext) -> None:
        return None


class StepKeyPair:
    """A temporary key pair when the template gives neither a key nor a password."""

    name = "StepSSHKeyGen"

    def run(self, ctx: BuildContext) -> None:
        state = qemu_state(ctx)
        cfg = config_of(ctx)
        if cfg.communicator != "ssh" or cfg.ssh_private_key_file or cfg.ssh_password:
            return
        ctx.ui.say("Creating temporary SSH key for instance...")
        state.key = generate_key_pair(state.tmp, comment=f"packer-{cfg.build_name}")

    def cleanup(self, ctx: BuildContext) -> None:
        _take(ctx, "key")  # the file goes with the temporary directory


class StepCD:
    """``cd_files``/``cd_content`` as a CD; a cidata seed gets the temporary public key."""

    name = "StepCreateCD"

    def run(self, ctx: BuildContext) -> None:
        state = qemu_state(ctx)
        cfg = config_of(ctx)
        key = state.key
        content = dict(cfg.cd_content)
        label = cfg.cd_label or DEFAULT_LABEL
        if not (cfg.cd_files or content):
            if key is None:
                return
            ctx.ui.message("No cd_files: adding a NoCloud seed carrying the temporary key.")
            content = {"meta-data": f"instance-id: {cfg.build_name}\n"}
            label = DEFAULT_LABEL
        if key is not None and label.lower() == DEFAULT_LABEL:
            user_data = seed_user_data(cfg.cd_files, content) or "#cloud-config\n"
            merged = authorize_key(user_data, cfg.ssh_username, key.public_key)
            if merged is None:
                ctx.ui.message("user-data is not #cloud-config: temporary key not added.")
            else:
                content["user-data"] = merged
        ctx.ui.say("Creating CD disk...")
        state.cdrom = make_cd(
            state.tmp / "cd.iso", cd_files=cfg.cd_files, cd_content=content, cd_label=label
        )

    def cleanup(self, ctx: BuildContext) -> None:
        _take(ctx, "cdrom")


class StepRunVM:
    """Start QEMU with SSH forwarded from a free loopback port; kill it in cleanup, always."""

    name = "StepRun"

    def run(self, ctx: BuildContext) -> None:
        state = qemu_state(ctx)
        cfg = config_of(ctx)
        chosen = accel.choose(cfg.accelerator)
        state.accelerator = chosen
        port = free_port()
        ctx.ui.say(f"Found port for communicator (SSH, WinRM, etc): {port}.")
        tmp: Path = state.tmp
        machine = QemuMachine(
            state.disk,
            cfg.format,
            memory_mb=cfg.memory_mb,
            cpus=cfg.cpus,
            accelerator=chosen.qemu_name,
            ssh_host_port=port,
            guest_ssh_port=cfg.ssh_port,
            serial_log=tmp / "serial.log",
            cdrom=state.cdrom,
            net_device=cfg.net_device,
            disk_interface=cfg.disk_interface,
            qemuargs=cfg.qemuargs,
            name=cfg.vm_name,
            headless=True,
            machine_type=cfg.machine_type,
            cache=cfg.disk_cache,
            discard=cfg.disk_discard,
            detect_zeroes=cfg.disk_detect_zeroes,
            binary=cfg.qemu_binary,
        )
        state.machine = machine
        ctx.ui.say(f"Starting VM, booting disk image (accelerator {chosen.qemu_name})")
        machine.start()
        ctx.note_created("process", str(machine.pid))
        if cfg.boot_wait > 0:
            ctx.ui.say(f"Waiting {cfg.boot_wait:g}s for boot...")
            clock_of(ctx.options).sleep(cfg.boot_wait)

    def cleanup(self, ctx: BuildContext) -> None:
        machine: QemuMachine | None = _take(ctx, "machine")
        if machine is not None and machine.running:
            ctx.ui.say("Halting the virtual machine...")
        if machine is not None:
            machine.kill()


class StepWaitSSH:
    """StepConnect, plus the fall back from an automatically chosen KVM to TCG."""

    name = "StepConnect"

    def __init__(self) -> None:
        self.connect = StepConnect(
            self._communicator, self._timeout, "SSH", self._console, self._abort
        )
        self.started = 0.0

    def run(self, ctx: BuildContext) -> None:
        state = qemu_state(ctx)
        if config_of(ctx).communicator == "none":
            return
        self.ctx = ctx
        self.started = clock_of(ctx.options).monotonic()
        try:
            self.connect.run(ctx)
        except BuildError as error:
            machine: QemuMachine = state.machine
            if not accel.falls_back(machine, state.accelerator):
                raise
            self.connect.cleanup(ctx)
            accel.remember_kvm_broken(str(error))
            ctx.ui.say(
                "Warning: the KVM guest did not come up, falling back to TCG (software emulation, "
                f"slower); later VMs on this host start with TCG. KVM's failure: {error}"
            )
            machine.restart("tcg")
            ctx.note_created("process", str(machine.pid))
            self.started = clock_of(ctx.options).monotonic()
            self.connect.run(ctx)

    def _communicator(self, ctx: BuildContext) -> SSHCommunicator:
        state = qemu_state(ctx)
        cfg, key = config_of(ctx), state.key
        key_file = key.private_key_file if key else cfg.ssh_private_key_file or None
        return SSHCommunicator(
            "127.0.0.1",
            state.machine.ssh_host_port,
            cfg.ssh_username,
            password=cfg.ssh_password or None,
            private_key_file=Path(key_file) if key_file else None,
            poll_interval=0.5,
            secrets=ctx.plan.secrets(),
        )

    def _timeout(self) -> float:
        return config_of(self.ctx).ssh_timeout

    @staticmethod
    def _console(ctx: BuildContext) -> str:
        return qemu_state(ctx).machine.serial_tail()

    def _abort(self, ctx: BuildContext) -> str | None:
        state = qemu_state(ctx)
        silent_for = clock_of(ctx.options).monotonic() - self.started
        return accel.boot_failure(state.machine, state.accelerator, silent_for)

    def cleanup(self, ctx: BuildContext) -> None:
        self.connect.cleanup(ctx)


class StepShutdown:
    """``shutdown_command`` and wait, else an ACPI power-off; a guest that stays up fails."""

    name = "StepShutdown"

    def run(self, ctx: BuildContext) -> None:
        state = qemu_state(ctx)
        cfg = config_of(ctx)
        machine: QemuMachine = state.machine
        state.machine_accelerator = machine.accelerator
        communicator = ctx.state.get("communicator")
        if cfg.communicator == "none":
            ctx.ui.say("Waiting for shutdown...")
            machine.wait_exit(cfg.shutdown_timeout)
        elif cfg.shutdown_command and communicator is not None:
            ctx.ui.say("Gracefully halting virtual machine...")
            try:
                communicator.run(cfg.shutdown_command, timeout=60, on_output=ctx.ui.message)
            except BuildError as error:  # the connection usually drops as the guest stops
                ctx.ui.message(f"(shutdown command: {error})")
            machine.wait_exit(cfg.shutdown_timeout)
        else:
            ctx.ui.say("Halting the virtual machine...")
            machine.stop(timeout=cfg.shutdown_timeout)
        machine.kill()  # reaps the process and removes the QMP socket

    def cleanup(self, ctx: BuildContext) -> None:
        return None


class StepConvert:
    """Compaction (Packer's "Converting hard drive..."), skipped for overlays."""

    name = "StepConvertDisk"

    def run(self, ctx: BuildContext) -> None:
        state = qemu_state(ctx)
        cfg = config_of(ctx)
        if not (cfg.skip_compaction or cfg.use_backing_file):
            ctx.ui.say("Converting hard drive...")
            disk.compact(
                state.disk,
                cfg.format,
                cfg.disk_compression,
                cfg.qemu_img_args.get("convert"),
            )
        state.artifact_ready = True

    def cleanup(self, ctx: BuildContext) -> None:
        return None

"""The qemu provider: local images built and booted for real under QEMU.

The builder (config plus its steps), the machine (one QEMU process, KVM when it really works,
else TCG), NoCloud seeds, the debootstrap base images, and the launcher that boots a
copy-on-write overlay of a built image for smoke tests; with the template keys and
validation rules of the qemu builder.
"""

from __future__ import annotations

from ..catalogue import BuilderType, Provider

BUILDER_ID = "transcend.qemu"  # Packer's id for qemu artifacts

PROVIDER = Provider(
    name="qemu",
    builders={
        "qemu": BuilderType(
            builder="pytest_imagebuild.qemu.builder:QemuBuilder",
            launcher="pytest_imagebuild.qemu.launcher:QemuLauncher",
            artifact_id=BUILDER_ID,
            fields="pytest_imagebuild.qemu.fields:FIELDS",
            nested_fields="pytest_imagebuild.qemu.fields:NESTED_FIELDS",
            rules="pytest_imagebuild.qemu.rules:qemu",
            header="pytest_imagebuild.qemu.header:header_line",
            semantics_version="1",
            reuse="pytest_imagebuild.qemu.reuse:QemuReuse",
            unsupported_keys="pytest_imagebuild.qemu.rules:UNSUPPORTED_KEYS",
            ignored_keys="pytest_imagebuild.qemu.rules:IGNORED",
        )
    },
    commands="pytest_imagebuild.qemu.commands:add_commands",
)

"""Which builder types this plugin implements; imported lazily so unused SDKs never load."""

from __future__ import annotations

import importlib

from .base import Builder, BuilderNotAvailable

# type name -> "module:Class"; builders register here as they are implemented.
BUILDERS: dict[str, str] = {
    "azure-arm": "pytest_imagebuild.builders.azure_arm.builder:AzureArmBuilder",
    "qemu": "pytest_imagebuild.builders.qemu.builder:QemuBuilder",
    "null": "pytest_imagebuild.null.builder:NullBuilder",
}


def builder_class(type_name: str) -> type[Builder]:
    target = BUILDERS.get(type_name)
    if target is None:
        implemented = ", ".join(sorted(BUILDERS)) or "none yet"
        raise BuilderNotAvailable(
            f"builder type {type_name!r} is not available in pytest-imagebuild "
            f"(implemented builder types: {implemented}), so it cannot build it; validate "
            "did not check this builder's keys either (`packer validate` does)."
        )
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)

"""The null provider: Packer's ``null`` builder provisions an existing machine over SSH or
WinRM and makes no image; its launcher hands tests a ``host`` on that same machine."""

from __future__ import annotations

from ..catalogue import BuilderType, Provider

BUILDER_ID = "fnoeding.null"  # Packer's id for null artifacts

PROVIDER = Provider(
    name="null",
    builders={
        "null": BuilderType(
            builder="pytest_imagebuild.null.builder:NullBuilder",
            launcher="pytest_imagebuild.null.launcher:NullLauncher",
            artifact_id=BUILDER_ID,
            fields="pytest_imagebuild.null.config:FIELDS",
            rules="pytest_imagebuild.template.communicator_rules:null_builder",
        )
    },
)

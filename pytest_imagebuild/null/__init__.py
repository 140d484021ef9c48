"""The null provider: Packer's ``null`` builder, which only connects to an existing host.

Validation knows it (a host to connect to and a way to log in); building with it is not
implemented yet, so its build item says so.
"""

from __future__ import annotations

from ..catalogue import BuilderType, Provider

PROVIDER = Provider(
    name="null",
    builders={
        "null": BuilderType(
            builder="",
            rules="pytest_imagebuild.template.communicator_rules:null_builder",
        )
    },
)

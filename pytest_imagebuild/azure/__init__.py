"""The azure-arm provider: everything about building and launching on Azure lives here.

The builder (``config`` plus one module per group of steps, as Packer's azure-arm builder is
laid out), the launcher for smoke-test VMs, the janitor's cleaner for leaked resource groups,
the template keys and validation rules, the pytest options that point at another Resource
Manager, and log masking for the SDK's own logs. Importing this package is cheap: the Azure
SDK loads only when a build, launch or cleanup needs it.
"""

from __future__ import annotations

from ..catalogue import BuilderType, Provider

BUILDER_ID = "Azure.ResourceManagement.VMImage"  # Packer's id for azure-arm artifacts

PROVIDER = Provider(
    name="azure",
    builders={
        "azure-arm": BuilderType(
            builder="pytest_imagebuild.azure.builder:AzureArmBuilder",
            launcher="pytest_imagebuild.azure.launcher:AzureLauncher",
            artifact_id=BUILDER_ID,
            fields="pytest_imagebuild.azure.fields:FIELDS",
            nested_fields="pytest_imagebuild.azure.fields:NESTED_FIELDS",
            deprecated_keys="pytest_imagebuild.azure.fields:DEPRECATED_KEYS",
            rules="pytest_imagebuild.azure.rules:azure_arm",
            run_settings="pytest_imagebuild.azure.options:run_settings",
            journal_data="pytest_imagebuild.azure.options:journal_data",
            recorded=True,
            # 2: custom_data_file, disk_caching_type, the managed image's storage type and zone
            # resilience, and the gallery version's settings reach Azure (ignored before).
            semantics_version="2",
            reuse="pytest_imagebuild.azure.reuse:AzureReuse",
            unsupported_keys="pytest_imagebuild.azure.rules:UNSUPPORTED_KEYS",
            ignored_keys="pytest_imagebuild.azure.rules:IGNORED",
        )
    },
    cleaners={"azure-resource-group": "pytest_imagebuild.azure.cleaner:GroupCleaner"},
    add_options="pytest_imagebuild.azure.options:add_options",
    settings="pytest_imagebuild.azure.options:settings_from",
    can_record="pytest_imagebuild.azure.options:can_record",
    janitor_options="pytest_imagebuild.azure.options:add_janitor_options",
    removal_hints={"azure-resource-group": "az group delete --name {name} --yes"},
)

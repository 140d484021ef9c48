"""The azure provider's pytest options and what a run hands its builds: endpoint overrides.

A run's provider settings are plain strings (``arm_url``, ``authority``, ``ca_bundle``) so the
generic layers can record them in cassette metadata and journals without knowing Azure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pytest

from .endpoints import AzureEndpoints

SETTING_NAMES = ("arm_url", "authority", "ca_bundle")
ENVIRONMENT = {
    "arm_url": "IMAGEBUILD_AZURE_ARM_URL",
    "authority": "AZURE_AUTHORITY_HOST",
    "ca_bundle": "IMAGEBUILD_AZURE_CA_BUNDLE",
}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("imagebuild")
    group.addoption(
        "--image-azure-arm-url",
        default=os.environ.get(ENVIRONMENT["arm_url"], ""),
        metavar="URL",
        help="Azure Resource Manager endpoint to use instead of the template's cloud "
        "(Azure Stack, custom clouds, a test stand-in); default $IMAGEBUILD_AZURE_ARM_URL.",
    )
    group.addoption(
        "--image-azure-authority",
        default=os.environ.get(ENVIRONMENT["authority"], ""),
        metavar="URL",
        help="token authority to use with --image-azure-arm-url; default $AZURE_AUTHORITY_HOST.",
    )
    group.addoption(
        "--image-azure-ca-bundle",
        default=os.environ.get(ENVIRONMENT["ca_bundle"], ""),
        metavar="FILE",
        help="CA certificates to trust for those endpoints; default $IMAGEBUILD_AZURE_CA_BUNDLE.",
    )




def settings_from(option: Any) -> dict[str, str]:
    """The endpoint overrides given on the command line, else in the environment (``option``
    is None outside pytest, for the janitor command)."""
    given = {
        "arm_url": getattr(option, "image_azure_arm_url", None),
        "authority": getattr(option, "image_azure_authority", None),
        "ca_bundle": getattr(option, "image_azure_ca_bundle", None),
    }
    settings = {
        name: str(value if value is not None else os.environ.get(ENVIRONMENT[name], ""))
        for name, value in given.items()
    }
    cloud = getattr(option, "azure_cloud", None)
    return {**settings, "cloud": cloud} if cloud else settings


def add_janitor_options(parser: Any) -> None:
    parser.add_argument(
        "--cloud",
        dest="azure_cloud",
        default="Public",
        help="Azure cloud to search for tagged groups (Public, China, USGovernment); "
        "$IMAGEBUILD_AZURE_ARM_URL overrides its endpoint",
    )


# Set in the environment, any of these means a build may talk to the real Azure.
CREDENTIAL_VARIABLES = (
    "ARM_CLIENT_SECRET",
    "AZURE_CLIENT_SECRET",
    "ARM_USE_AZURE_CLI_AUTH",
    "AZURE_USE_CLI_AUTH",
    "ARM_USE_MSI",  # a managed identity, through the default credential chain
)


def can_record(settings: Mapping[str, str]) -> bool:
    """A secret or CLI login in the environment, or an explicit Resource Manager endpoint."""
    return bool(settings.get("arm_url")) or any(os.environ.get(n) for n in CREDENTIAL_VARIABLES)


def run_settings(given: Mapping[str, str], recorded: Mapping[str, str] | None) -> dict[str, str]:
    """A replay talks to the endpoints it was recorded against unless this run names its own."""
    if recorded and not given.get("arm_url"):
        return {"arm_url": recorded.get("arm_url", ""), "authority": recorded.get("authority", "")}
    return dict(given)


def endpoints(settings: Mapping[str, str]) -> AzureEndpoints:
    return AzureEndpoints(**{name: settings.get(name, "") for name in SETTING_NAMES})


def journal_data(config: Mapping[str, Any], settings: Mapping[str, str]) -> dict[str, str]:
    """Where the build's Azure lives (cloud name and endpoints), never credentials."""
    return {
        "cloud": str(config.get("cloud_environment_name") or "Public"),
        **{name: str(settings.get(name, "") or "") for name in SETTING_NAMES},
    }

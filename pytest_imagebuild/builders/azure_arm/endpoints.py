"""Endpoint overrides for Azure, kept apart so settings can name them without the Azure SDK."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AzureEndpoints:
    """Overrides from the command line or environment; empty means the template's cloud."""

    arm_url: str = ""
    authority: str = ""
    ca_bundle: str = ""

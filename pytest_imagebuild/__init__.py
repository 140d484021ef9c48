"""pytest-imagebuild: machine-image templates (Packer's formats) as pytest tests.

The types a test or conftest annotates with are importable from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Artifact", "LaunchedVM", "Provider", "Template", "__version__"]

if TYPE_CHECKING:
    from .catalogue import Provider
    from .launch import LaunchedVM
    from .multistep import Artifact
    from .template.model import Template

_LAZY = {
    "Artifact": "pytest_imagebuild.multistep:Artifact",
    "LaunchedVM": "pytest_imagebuild.launch:LaunchedVM",
    "Provider": "pytest_imagebuild.catalogue:Provider",
    "Template": "pytest_imagebuild.template.model:Template",
}


def __getattr__(name: str) -> Any:
    """Imported on first use, so ``import pytest_imagebuild`` stays cheap."""
    if name not in _LAZY:
        raise AttributeError(f"module 'pytest_imagebuild' has no attribute {name!r}")
    import importlib

    module, _, attribute = _LAZY[name].partition(":")
    return getattr(importlib.import_module(module), attribute)

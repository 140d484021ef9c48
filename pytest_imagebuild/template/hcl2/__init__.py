"""Packer HCL2 configurations (`.pkr.hcl` files and folders of them) read into Templates.

The JSON front end's Template, BuildPlan and validation are reused unchanged: this package
parses (python-hcl2), evaluates expressions, resolves variables and locals, and turns
`source` and `build` blocks into the same builder, provisioner and post-processor specs.
"""

from __future__ import annotations

from ..names import template_stem
from .config import read_hcl2_template
from .parse import is_hcl2_path

__all__ = ["is_hcl2_path", "read_hcl2_template", "template_stem"]

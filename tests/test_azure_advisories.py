"""`validate` warns, without failing, when an azure-arm template relies on the retired default
vm_size (Packer 1.6.6's Standard_A1; Azure retired the A-series on 2024-08-31)."""

from __future__ import annotations

import copy
import json

import pytest

from tests.test_validate import AZURE, VARIABLES

pytest_plugins = ["pytester"]


def write(pytester: pytest.Pytester, **changes: object) -> None:
    builder = copy.deepcopy(AZURE)
    builder.update(changes)
    builder = {k: v for k, v in builder.items() if v is not None}
    data = {"variables": VARIABLES, "builders": [builder]}
    pytester.path.joinpath("t.json").write_text(json.dumps(data, indent=2))


def test_the_retired_default_vm_size_gets_a_warning_not_a_failure(
    pytester: pytest.Pytester,
) -> None:
    write(pytester, vm_size=None)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--image-template", "t.json", "-k", "validate"
    )
    result.assert_outcomes(passed=1, warnings=1)
    text = result.stdout.str()
    assert "ImagebuildWarning: builders[0]: sets no vm_size" in text
    assert "template t.json:8" in text
    assert "Standard_A1" in text and "retired on 2024-08-31" in text


@pytest.mark.parametrize("size", ["Standard_DS2_v2", "{{user `size`}}"])
def test_a_template_that_sets_vm_size_gets_no_warning(pytester: pytest.Pytester, size: str) -> None:
    write(pytester, vm_size=size)
    data = json.loads(pytester.path.joinpath("t.json").read_text())
    data["variables"]["size"] = "Standard_D2s_v3"
    pytester.path.joinpath("t.json").write_text(json.dumps(data, indent=2))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--image-template", "t.json", "-k", "validate"
    )
    result.assert_outcomes(passed=1)
    assert "ImagebuildWarning" not in result.stdout.str()

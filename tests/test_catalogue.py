"""The catalogue: built-in providers register themselves, and a project adds its own builder
through the ``pytest_imagebuild_providers`` hook without touching the plugin."""

from __future__ import annotations

import json

import pytest

from pytest_imagebuild.catalogue import BuilderType, Catalogue, NotAvailable, Provider, catalogue
from pytest_imagebuild.errors import ImagebuildError

CONFTEST = '''
from pathlib import Path

from pytest_imagebuild import Artifact, Provider
from pytest_imagebuild.catalogue import BuilderType


class WriteMarker:
    name = "StepWriteMarker"

    def run(self, ctx):
        ctx.ui.say("writing the marker")
        (ctx.workdir / "marker").write_text(ctx.plan.config.get("text", ""))

    def cleanup(self, ctx):
        pass


class TouchBuilder:
    def __init__(self, ctx):
        self.ctx = ctx

    def steps(self):
        return [WriteMarker()]

    def artifact(self):
        return Artifact("example.touch", self.ctx.plan.name, files=[self.ctx.workdir / "marker"])


def pytest_imagebuild_providers(config):
    return [Provider("touch", builders={"touch": BuilderType(builder="conftest:TouchBuilder")})]
'''


def test_a_conftest_adds_a_builder_type(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.syspathinsert()
    template = pytester.path / "t.json"
    template.write_text(json.dumps({"builders": [{"type": "touch", "text": "hello"}]}))
    base = pytester.path / "base"
    result = pytester.runpytest("--image-template", str(template), f"--basetemp={base}")
    result.assert_outcomes(passed=2)
    (marker,) = base.rglob("marker")
    assert marker.read_text() == "hello"


def test_an_unimplemented_builder_says_so_on_its_build_item(pytester: pytest.Pytester) -> None:
    template = pytester.path / "t.json"
    template.write_text(json.dumps({"builders": [{"type": "amazon-ebs"}]}))
    result = pytester.runpytest("--image-template", str(template), "-k", "build")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*builder type 'amazon-ebs' is not available*"])


def test_built_in_providers_register_their_builders() -> None:
    entries = catalogue()
    assert entries.recorded("azure-arm") and not entries.recorded("qemu")
    assert entries.builder_class("qemu").__name__ == "QemuBuilder"
    assert "vm_size" in entries.builder_table("azure-arm", "fields", {})
    assert entries.removal_hint("azure-resource-group", "rg") == "az group delete --name rg --yes"
    with pytest.raises(NotAvailable, match="implemented builder types: azure-arm, null, qemu"):
        entries.builder_class("docker")


def test_two_providers_cannot_claim_one_builder_type() -> None:
    entries = Catalogue()
    entries.add(Provider("one", builders={"x": BuilderType(builder="a:B")}))
    with pytest.raises(ImagebuildError, match="provider 'two' registers the builder type 'x'"):
        entries.add(Provider("two", builders={"x": BuilderType(builder="c:D")}))

"""A template file becomes pytest items: ``<file>::validate`` and ``<file>::build[<name>]``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .caveats import warn
from .errors import ImagebuildError, TemplateError
from .secrets import mask
from .settings import Settings
from .store import ImageStore

STORE_KEY = pytest.StashKey[ImageStore]()
SETTINGS_KEY = pytest.StashKey[Settings]()


def template_items(node: pytest.Collector) -> Iterator[pytest.Item]:
    """``<template>::validate`` and one ``<template>::build[<name>]`` per selected build."""
    yield ValidateItem.from_parent(node, name="validate")
    settings = node.config.stash[SETTINGS_KEY]
    try:
        template = node.config.stash[STORE_KEY].load(node.path).template
    except Exception:
        # A collection error would stop the whole session; the validate item asks again and
        # reports what went wrong there.
        template = None
    for name in template.build_names if template else []:
        if settings.selects(name):
            yield BuildItem.from_parent(node, name=f"build[{name}]", build_name=name)


class TemplateFile(pytest.File):
    """A Packer template file (JSON or .pkr.hcl) given with --image-template (or the
    image_templates ini key)."""

    def collect(self) -> Iterator[pytest.Item]:
        yield from template_items(self)


class TemplateFolder(pytest.Dir):
    """A folder of `*.pkr.hcl` files given with --image-template: one HCL2 configuration, as
    Packer loads a folder. Its items come first, then whatever tests the folder holds."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        yield from template_items(self)
        yield from super().collect()


class ImagebuildItem(pytest.Item):
    """Shared by template items: errors a user can fix print as one paragraph."""

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ImagebuildError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    @property
    def store(self) -> ImageStore:
        return self.config.stash[STORE_KEY]


class ValidateItem(ImagebuildItem):
    """``packer validate`` for one template, with every problem reported at once."""

    def runtest(self) -> None:
        loaded = self.store.load(self.path)
        warn([problem for problem in loaded.problems if problem.warning])
        if loaded.errors:
            raise TemplateError(loaded.errors, loaded.shown)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        # The domain is the item's own name: pytest prints "<file>::<domain>" with dots of the
        # domain turned into "::", so "t.json::validate" would print as "t::json::validate".
        return self.path, None, self.name


class BuildItem(ImagebuildItem):
    """Builds one builder of a template (once per session, shared with the ``image`` fixture)."""

    def __init__(self, *, build_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.build_name = build_name
        self.add_marker(pytest.mark.imagebuild(template=str(self.path), builder=build_name))

    def setup(self) -> None:
        from .project_recording import apply_to_item

        apply_to_item(self)  # the project's imagebuild_vcr_config, before the build records

    def runtest(self) -> None:
        artifact = self.store.build(self.path, self.build_name)
        secrets = self.store.plan(self.path, self.build_name).secrets()
        # Reports (terminal, JUnit XML) show artifacts with secrets masked: an Azure image id
        # carries the subscription id.
        self.user_properties.append(("artifact", mask(artifact.describe(), secrets)))
        if artifact.id:
            self.user_properties.append(("artifact_id", mask(artifact.id, secrets)))
        if artifact.data.get("build_key"):
            self.user_properties.append(("build_key", artifact.data["build_key"]))
        if artifact.data.get("reused"):
            self.user_properties.append(("reused", artifact.data["reused"]))
        for stage, seconds in artifact.stage_times.items():
            self.user_properties.append((f"stage_time[{stage}]", f"{seconds:.1f}"))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, self.name

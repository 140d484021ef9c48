"""A template file becomes pytest items: ``<file>::validate`` and ``<file>::build[<name>]``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .errors import ImagebuildError, TemplateError
from .settings import Settings, display_path
from .store import ImageStore
from .template import check
from .template.advisories import warn_advisories
from .template.loader import read_template
from .template.model import mask

STORE_KEY = pytest.StashKey[ImageStore]()
SETTINGS_KEY = pytest.StashKey[Settings]()


class TemplateFile(pytest.File):
    """A Packer JSON template given with --image-template (or the image_templates ini key)."""

    def collect(self) -> Iterator[pytest.Item]:
        yield ValidateItem.from_parent(self, name="validate")
        settings = self.config.stash[SETTINGS_KEY]
        template, _ = read_template(self.path, settings.variables, settings.var_files)
        for name in template.build_names if template else []:
            if settings.selects(name):
                yield BuildItem.from_parent(self, name=f"build[{name}]", build_name=name)


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
        settings = self.config.stash[SETTINGS_KEY]
        problems = check(
            display_path(self.path),
            settings.variables,
            settings.var_files,
            self.store.run,
            settings.only,
            settings.except_,
        )
        warn_advisories(self.path, display_path(self.path), settings.variables, settings.var_files)
        if problems:
            raise TemplateError(problems)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"{self.path.name}::validate"


class BuildItem(ImagebuildItem):
    """Builds one builder of a template (once per session, shared with the ``image`` fixture)."""

    def __init__(self, *, build_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.build_name = build_name
        self.add_marker(pytest.mark.imagebuild(template=str(self.path), builder=build_name))

    def runtest(self) -> None:
        artifact = self.store.build(self.path, self.build_name)
        secrets = self.store.plan(self.path, self.build_name).secrets()
        # Reports (terminal, JUnit XML) show artifacts with secrets masked: an Azure image id
        # carries the subscription id.
        self.user_properties.append(("artifact", mask(artifact.describe(), secrets)))
        if artifact.id:
            self.user_properties.append(("artifact_id", mask(artifact.id, secrets)))
        for stage, seconds in artifact.stage_times.items():
            self.user_properties.append((f"stage_time[{stage}]", f"{seconds:.1f}"))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"{self.path.name}::build[{self.build_name}]"

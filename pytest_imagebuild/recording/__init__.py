"""Record and replay: vcrpy cassettes per build, launch and test, scrubbed before writing.

It wraps builds from outside (``RecordingSession``): builders get a clock and never ask whether
they are replaying. Which builders are recorded comes from the catalogue; what a secret is, from
``pytest_imagebuild.secrets``. Imports no provider."""

import pytest

# pytest-recording has pytest rewrite the asserts of vcr.matchers; were vcr imported here first,
# pytest would warn "Module already imported so cannot be rewritten" in every run with both
# plugins. Registering it before the first vcr import keeps that run quiet.
pytest.register_assert_rewrite("vcr.matchers")

from .cassettes import CassetteError  # noqa: E402
from .placeholders import SecretBook  # noqa: E402
from .recorder import (  # noqa: E402
    CassetteRecorder,
    NotInCassette,
    RecordingSettings,
    TemplateRun,
)

__all__ = [
    "CassetteError",
    "CassetteRecorder",
    "NotInCassette",
    "RecordingSettings",
    "SecretBook",
    "TemplateRun",
]

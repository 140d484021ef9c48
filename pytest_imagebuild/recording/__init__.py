"""Record and replay: vcrpy cassettes per build, launch and test, scrubbed before writing.

It wraps builds from outside (``RecordingSession``): builders get a clock and never ask whether
they are replaying. Which builders are recorded comes from the catalogue; what a secret is, from
``pytest_imagebuild.secrets``. Imports no provider."""

from .cassettes import CassetteError
from .placeholders import SecretBook
from .recorder import (
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

"""Record and replay: vcrpy cassettes per build, launch and test, scrubbed before writing."""

from .cassettes import CassetteError
from .recorder import (
    RECORDED_BUILDERS,
    CassetteRecorder,
    NotInCassette,
    RecordingSettings,
    TemplateRun,
)
from .secrets import SecretBook

__all__ = [
    "RECORDED_BUILDERS",
    "CassetteError",
    "CassetteRecorder",
    "NotInCassette",
    "RecordingSettings",
    "SecretBook",
    "TemplateRun",
]

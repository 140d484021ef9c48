"""Which build, launch or test is recorded, and with which secrets and metadata.

The store and fixtures ask this one object to wrap a step of a build plan in its cassette;
it decides from the catalogue whether the plan's builder is recorded, knows what a recorded
template's run looked like (start time, placeholders, endpoints), and names the secrets the
scrubber must keep out. Nothing else in the plugin talks to vcrpy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..catalogue import catalogue
from ..clock import REAL_CLOCK, Clock
from ..secrets import SENSITIVE_FIELDS, user_secrets
from ..template.model import BuildPlan
from .placeholders import SecretBook
from .recorder import CassetteRecorder, TemplateRun


def sensitive_variables(plan: BuildPlan) -> dict[str, str]:
    variables = plan.template.variables
    return {
        name: variables.values[name] for name in variables.sensitive if variables.values.get(name)
    }


def named_secrets(plan: BuildPlan) -> dict[str, str]:
    """Secret values by the name a user knows them by: sensitive variables, secret fields."""
    named = sensitive_variables(plan)
    for key in SENSITIVE_FIELDS & plan.config.keys():
        if plan.config[key]:
            named.setdefault(key, str(plan.config[key]))
    return named


@dataclass
class RecordingSession:
    """The session's cassettes, or none (a run with recording turned off)."""

    cassettes: CassetteRecorder | None
    provider_settings: Callable[[str], Mapping[str, str]]  # builder type -> given settings

    def template_run(self, path: Path) -> TemplateRun | None:
        """How a recorded template renders (None: recording is off). Only for templates whose
        builders the catalogue says are recorded: the store asks after parsing it."""
        return self.cassettes.template_run(path) if self.cassettes else None

    def finish(self) -> list[str]:
        """Session end: successful recordings replace their cassettes; a line per failed one."""
        return self.cassettes.finish() if self.cassettes else []

    def test_failed(self, plan: BuildPlan) -> None:
        """A smoke test failed while its build was being recorded: keep the old cassettes."""
        if self.cassettes is not None:
            build = self.cassettes.build_cassette(plan.template.path, plan.name)
            if build.parent in self.cassettes.staged.succeeded:
                self.cassettes.staged.failed(build)

    def records(self, builder_types: set[str]) -> bool:
        return any(catalogue().recorded(kind) for kind in builder_types)

    @contextmanager
    def use(self, plan: BuildPlan, name: str, secrets: set[str]) -> Iterator[Clock]:
        """Record or replay the HTTP of a build ("build"), a launch or a test of a recorded
        plan; yields the clock its waits must use (virtual on replay)."""
        if self.cassettes is None or not catalogue().recorded(plan.type):
            yield REAL_CLOCK
            return
        recorded = self.cassettes.template_run(plan.template.path)
        book = SecretBook(named=named_secrets(plan), live=lambda: set(secrets) | user_secrets())
        metadata = None
        if name == "build":
            given = self.provider_settings(plan.type)
            metadata = self.cassettes.metadata(recorded, sensitive_variables(plan), dict(given))
        with self.cassettes.use(plan.template.path, plan.name, name, book, metadata) as options:
            yield options["clock"]

"""Find what earlier runs left behind and, when asked, remove it.

A resource is left behind when its journal has no "released" entry for it and the run that
recorded it is gone (its pid no longer runs on this host) or older than ``--older-than``.
On Azure, groups tagged with a run id that no live run here owns count too, so a CI runner
whose journals died with it is still cleaned up from the next one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..builders.base import removal_hint
from ..errors import ImagebuildError
from . import local
from .azure import AzureCleaner, AzureTarget, created_at, env_credentials, run_of
from .journal import Entry, Owner, discard_if_done, journals, outstanding, read, release_in

AZURE_GROUP = "azure-resource-group"


@dataclass
class Leftover:
    kind: str
    name: str
    run_id: str
    since: float | None
    where: str
    why: str
    entry: Entry | None = None
    journal: Path | None = None
    azure: AzureTarget | None = None
    status: str = ""


@dataclass
class Survey:
    leftovers: list[Leftover] = field(default_factory=list)
    gone: list[tuple[Path, Entry]] = field(default_factory=list)
    spared: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)


@dataclass
class _Run:
    """What the journals say about one recording process."""

    path: Path
    owner: Owner
    started: float
    open: list[Entry]


def _runs(root: Path) -> list[_Run]:
    runs = []
    for path in journals(root):
        entries = read(path)
        if entries:
            runs.append(_Run(path, entries[0].owner, entries[0].time, outstanding(entries)))
    return runs


def _has_age(since: float | None, now: float, limit: float | None) -> bool:
    return limit is not None and since is not None and now - since >= limit


@dataclass
class Janitor:
    root: Path
    older_than: float | None = None
    azure: AzureTarget | None = None
    scan_tags: bool = True
    select: Callable[[Entry], bool] = lambda entry: True
    env: Mapping[str, str] | None = None
    now: Callable[[], float] = time.time
    _cleaners: dict[AzureTarget, AzureCleaner] = field(default_factory=dict)
    _targets_seen: set[AzureTarget] = field(default_factory=set)

    def cleaner(self, target: AzureTarget) -> AzureCleaner:
        if target not in self._cleaners:
            self._cleaners[target] = AzureCleaner(target, self.env)
        return self._cleaners[target]

    # -- finding ---------------------------------------------------------------------------
    def survey(self) -> Survey:
        survey, now = Survey(), self.now()
        protected: set[str] = set()
        known: set[str] = set()
        for run in _runs(self.root):
            known.add(run.owner.run_id)
            alive = run.owner.alive()
            entries = [entry for entry in run.open if self.select(entry)]
            if alive is not False and not _has_age(run.started, now, self.older_than):
                protected.add(run.owner.run_id)
                survey.spared += len(entries)
                continue
            why = f"run ended (pid {run.owner.pid})" if alive is False else "run too old"
            for entry in entries:
                self._check(survey, run, entry, why)
        if self.scan_tags:
            targets = {i.azure for i in survey.leftovers if i.azure} | self._targets_seen
            if self.azure is not None and env_credentials(self.env)["subscription_id"]:
                targets.add(self.azure)
            self._scan_tags(survey, targets, protected, known, now)
        return survey

    def _check(self, survey: Survey, run: _Run, entry: Entry, why: str) -> None:
        where = run.owner.host
        target = AzureTarget.from_data(entry.data) if entry.kind == AZURE_GROUP else None
        exists: bool | None = True
        if entry.kind == "path":
            exists = local.path_exists(entry)
        elif entry.kind == "process":
            exists = local.process_running(entry)
        elif target is not None:
            where = target.describe()
            self._targets_seen.add(target)
            exists = self._group_exists(survey, target, entry)
        if exists is False:
            survey.gone.append((run.path, entry))
            return
        leftover = Leftover(
            entry.kind, entry.name, entry.owner.run_id, entry.time, where, why, entry, run.path
        )
        leftover.azure = target
        leftover.status = "" if exists else "not checked"
        survey.leftovers.append(leftover)

    def _group_exists(self, survey: Survey, target: AzureTarget, entry: Entry) -> bool | None:
        try:
            tags = self.cleaner(target).group_tags(entry.name)
        except ImagebuildError as error:
            survey.error(str(error))
            return None
        if tags is None:
            return False
        if run_of(tags) != entry.owner.run_id:
            survey.notes.append(
                f"Resource group {entry.name} at {target.describe()} exists but is not tagged "
                f"with run {entry.owner.run_id}; it was left alone (someone else's group?)."
            )
            return False
        return True

    def _scan_tags(
        self,
        survey: Survey,
        targets: set[AzureTarget],
        protected: set[str],
        known: set[str],
        now: float,
    ) -> None:
        seen = {(i.azure, i.name.lower()) for i in survey.leftovers if i.azure}
        for target in sorted(targets, key=lambda t: t.describe()):
            try:
                groups = self.cleaner(target).tagged_groups()
            except ImagebuildError as error:
                survey.error(str(error))
                continue
            for name, tags in sorted(groups.items()):
                run_id = run_of(tags)
                if (target, name.lower()) in seen:
                    continue
                since = created_at(tags)
                if run_id in protected or (
                    run_id not in known
                    and self.older_than is not None
                    and not _has_age(since, now, self.older_than)
                ):
                    survey.spared += 1
                    continue
                why = "run ended" if run_id in known else "tagged by a run unknown here"
                survey.leftovers.append(
                    Leftover(AZURE_GROUP, name, run_id, since, target.describe(), why, azure=target)
                )

    # -- removing --------------------------------------------------------------------------
    def remove(self, survey: Survey) -> None:
        """Delete every leftover; Azure deletions run side by side, then are awaited."""
        pending = []
        for item in survey.leftovers:
            try:
                if item.kind == "process" and item.entry:
                    local.stop_process(item.entry)
                elif item.kind == "path" and item.entry:
                    local.delete_path(item.entry, protected=(self.root,))
                elif item.kind == AZURE_GROUP and item.azure:
                    poller = self.cleaner(item.azure).begin_delete(item.name)
                    pending.append((item, poller))
                    continue
                else:
                    raise ImagebuildError(
                        f"no janitor for {item.kind!r}; remove it with "
                        f"`{removal_hint(item.kind, item.name)}`"
                    )
            except ImagebuildError as error:
                self._failed(survey, item, error)
                continue
            self._deleted(item)
        for item, poller in pending:
            try:
                self.cleaner(item.azure).wait(item.name, poller)  # type: ignore[arg-type]
            except ImagebuildError as error:
                self._failed(survey, item, error)
                continue
            self._deleted(item)
        for path, entry in survey.gone:
            release_in(path, entry)
        touched = {p for p, _ in survey.gone} | {i.journal for i in survey.leftovers if i.journal}
        for path in touched:
            discard_if_done(path)

    def _deleted(self, item: Leftover) -> None:
        item.status = "deleted"
        if item.journal and item.entry:
            release_in(item.journal, item.entry)

    def _failed(self, survey: Survey, item: Leftover, error: ImagebuildError) -> None:
        item.status = "FAILED"
        survey.error(str(error))

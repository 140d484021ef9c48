"""Find what earlier runs left behind and, when asked, remove it.

A resource is left behind when its journal has no "released" entry for it and the run that
recorded it is gone (its pid no longer runs on this host) or older than ``--older-than``.
Providers that tag what they create (Azure groups) also find resources tagged by a run that
no live run here owns, so a CI runner whose journals died with it is still cleaned up from
the next one. Local files and processes are this module's own; everything else goes to the
cleaner its provider registered in the catalogue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalogue import catalogue
from ..errors import ImagebuildError
from . import local
from .cleaners import Cleaner
from .journal import Entry, Owner, discard_if_done, journals, outstanding, read, release_in


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
    handle: Any = None  # a provider's own reference, for what it found by tag
    status: str = ""


@dataclass(frozen=True)
class Kept:
    """Something a run kept on purpose, as the registry of kept things names it."""

    kind: str
    name: str
    where: str
    since: float | None


def kept_things(root: Path) -> dict[str, Kept]:
    """Every name (VM, its resource group, its journaled resources), lowercased, of what the
    registry in this state directory says was kept on purpose."""
    from ..reuse.registry import Registry

    kept: dict[str, Kept] = {}
    for thing in Registry(root).things():
        item = Kept(thing.kind, thing.name, thing.where, thing.created)
        names = {thing.name, str(thing.data.get("resource_group") or "")}
        names |= {str(name) for name in thing.data.get("resources", [])}
        for name in names - {""}:
            kept[name.lower()] = item
    return kept


@dataclass
class Survey:
    leftovers: list[Leftover] = field(default_factory=list)
    gone: list[tuple[Path, Entry]] = field(default_factory=list)
    spared: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unsearched: list[str] = field(default_factory=list)  # clouds it could not search, and why
    kept: list[Kept] = field(default_factory=list)  # kept on purpose (--image-keep): not leaks

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
    settings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # by provider
    scan_tags: bool = True
    select: Callable[[Entry], bool] = lambda entry: True
    env: Mapping[str, str] | None = None
    now: Callable[[], float] = time.time
    kept: Mapping[str, Kept] | None = None  # by lowercased name; None: the state's registry
    _cleaners: dict[str, Cleaner] = field(default_factory=dict)

    def cleaner(self, kind: str) -> Cleaner | None:
        """The provider's cleaner for a journal kind (one per provider class and run)."""
        cls = catalogue().cleaner_class(kind)
        if cls is None:
            return None
        key = f"{cls.__module__}.{cls.__qualname__}"
        if key not in self._cleaners:
            provider = next(
                (p for p in catalogue().providers if kind in p.cleaners), None
            )
            settings = self.settings.get(provider.name, {}) if provider else {}
            self._cleaners[key] = cls(settings, self.env)
        return self._cleaners[key]

    def all_cleaners(self) -> list[Cleaner]:
        for kind in catalogue().cleaners:
            self.cleaner(kind)
        return list(self._cleaners.values())

    # -- finding ---------------------------------------------------------------------------
    def survey(self) -> Survey:
        survey, now = Survey(), self.now()
        if self.kept is None:
            self.kept = kept_things(self.root)
        survey.kept = sorted(set(self.kept.values()), key=lambda k: (k.kind, k.name))
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
            self._scan_tags(survey, protected, known, now)
        return survey

    def _is_kept(self, name: str) -> bool:
        """Kept on purpose: listed as kept, never as a leftover, never deleted."""
        return self.kept is not None and name.lower() in self.kept

    def _check(self, survey: Survey, run: _Run, entry: Entry, why: str) -> None:
        if self._is_kept(entry.name):
            return
        where = run.owner.host
        exists: bool | None = True
        if entry.kind == "path":
            exists = local.path_exists(entry)
        elif entry.kind == "process":
            exists = local.process_running(entry)
        elif (cleaner := self.cleaner(entry.kind)) is not None:
            try:
                found = cleaner.check(entry)
            except ImagebuildError as error:
                survey.error(str(error))
                found = None
            if found is not None:
                where, exists = found.where, found.exists
                if found.note:
                    survey.notes.append(found.note)
            else:
                exists = None
        if exists is False:
            survey.gone.append((run.path, entry))
            return
        leftover = Leftover(
            entry.kind, entry.name, entry.owner.run_id, entry.time, where, why, entry, run.path
        )
        leftover.status = "" if exists else "not checked"
        survey.leftovers.append(leftover)

    def _scan_tags(
        self, survey: Survey, protected: set[str], known: set[str], now: float
    ) -> None:
        seen = {(i.kind, i.where, i.name.lower()) for i in survey.leftovers}
        for cleaner in self.all_cleaners():
            gap = getattr(cleaner, "unsearched", None)  # why a cloud could not be searched
            if callable(gap) and gap():
                survey.unsearched.append(gap())
            for found in cleaner.scan(survey.error):
                if (found.kind, found.where, found.name.lower()) in seen:
                    continue
                if self._is_kept(found.name):
                    continue
                if found.run_id in protected or (
                    found.run_id not in known
                    and self.older_than is not None
                    and not _has_age(found.since, now, self.older_than)
                ):
                    survey.spared += 1
                    continue
                why = "run ended" if found.run_id in known else "tagged by a run unknown here"
                survey.leftovers.append(
                    Leftover(
                        found.kind,
                        found.name,
                        found.run_id,
                        found.since,
                        found.where,
                        why,
                        handle=found.handle,
                    )
                )

    # -- removing --------------------------------------------------------------------------
    def remove(self, survey: Survey) -> None:
        """Delete every leftover; a provider's deletions run side by side, then are awaited."""
        pending = []
        for item in survey.leftovers:
            try:
                if item.kind == "process" and item.entry:
                    local.stop_process(item.entry)
                elif item.kind == "path" and item.entry:
                    local.delete_path(item.entry, protected=(self.root,))
                elif (cleaner := self.cleaner(item.kind)) is not None:
                    token = cleaner.begin_remove(item.kind, item.name, item.entry, item.handle)
                    pending.append((item, cleaner, token))
                    continue
                else:
                    raise ImagebuildError(
                        f"no janitor for {item.kind!r}; remove it with "
                        f"`{catalogue().removal_hint(item.kind, item.name)}`"
                    )
            except ImagebuildError as error:
                self._failed(survey, item, error)
                continue
            self._deleted(item)
        for item, cleaner, token in pending:
            try:
                cleaner.finish_remove(item.kind, item.name, token)
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

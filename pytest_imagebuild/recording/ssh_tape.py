"""SSH sessions kept beside the HTTP cassettes, because vcrpy records HTTP only.

A tape is what one cassette saw over SSH, in order: connections, commands with their exit
status and output, uploads by content hash, downloads with their content. It is written as
``<name>.ssh.yaml`` next to ``<name>.yaml``, scrubbed by the same Scrubber as the HTTP, and
replayed in order: a command that differs from the next recorded one is "not in the
cassette", with the same advice as an HTTP request that is not.

The recorder opens a tape for each cassette it uses (``open_tape``); the recording
communicator asks ``active_tape()`` at each call, so one testinfra host made for a module
records each test into that test's own cassette.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..bounded_read import InputFileError, read_text_bounded
from ..errors import ImagebuildError
from .cassettes import CassetteError, find_secret
from .placeholders import SecretBook
from .scrub import Scrubber

TAPE_VERSION = 1
EMPTY_CASSETTE = "interactions: []\nversion: 1\n"
KINDS = ("connect", "run", "exec", "upload", "download")


class SshNotInCassette(ImagebuildError):
    """A live SSH action the tape does not hold next (replay cannot go on)."""


def tape_path(cassette: Path) -> Path:
    """``build.yaml`` -> ``build.ssh.yaml``."""
    return cassette.with_name(cassette.name.removesuffix(".yaml") + ".ssh.yaml")


def content_hash(local: Path) -> str:
    """sha256 of a file, or of a directory tree (relative names and contents, sorted)."""
    digest = hashlib.sha256()
    local = Path(local)
    if local.is_file():
        digest.update(local.read_bytes())
        return digest.hexdigest()
    for entry in sorted(p for p in local.rglob("*") if p.is_file()):
        digest.update(entry.relative_to(local).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(entry.read_bytes()).digest())
    return digest.hexdigest()


def _describe(entry: dict[str, Any]) -> str:
    kind = next((k for k in KINDS if k in entry), "?")
    return f"{kind} `{entry.get(kind, '')}`"


@dataclass
class SshTape:
    """One cassette's SSH: recording (entries appended, saved on close) or replaying."""

    path: Path
    replaying: bool
    scrubber: Scrubber
    book: SecretBook
    mode: str = "none"
    entries: list[dict[str, Any]] = field(default_factory=list)
    position: int = 0

    @classmethod
    def open(
        cls, path: Path, replaying: bool, scrubber: Scrubber, book: SecretBook, mode: str
    ) -> SshTape:
        tape = cls(path, replaying, scrubber, book, mode)
        if replaying and path.exists():
            tape.entries = _read(path)
        return tape

    # -- what the recording communicator calls -------------------------------------------------
    def scrub(self, text: str) -> str:
        return self.scrubber.text(text)

    def record(self, kind: str, subject: str, **details: Any) -> None:
        entry: dict[str, Any] = {kind: self.scrub(subject)}
        for key, value in details.items():
            entry[key] = self.scrub(value) if isinstance(value, str) else value
        self.entries.append(entry)

    def play(self, kind: str, subject: str, **expected: Any) -> dict[str, Any]:
        """The next recorded entry, which must be this action; else SshNotInCassette."""
        wanted = {kind: self.scrub(subject), **expected}
        if self.position >= len(self.entries):
            raise self._miss(wanted, "the recording has no further SSH action")
        entry = self.entries[self.position]
        for key, value in wanted.items():
            if entry.get(key) != value:
                raise self._miss(wanted, f"the next recorded SSH action is {_describe(entry)}")
        self.position += 1
        return entry

    def _miss(self, wanted: dict[str, Any], why: str) -> SshNotInCassette:
        return SshNotInCassette(
            f"SSH {_describe(wanted)} is not in the cassette {self.path} (record mode "
            f"{self.mode}), so it cannot be replayed: {why} (entry {self.position + 1}). "
            "The template or the code changed since the recording: undo the change, or "
            "re-record with --image-record-mode=rewrite and Azure credentials."
        )

    def save(self, target: Path | None = None) -> None:
        if self.replaying or not self.entries:
            return
        target = target or self.path
        text = yaml.safe_dump(
            {"version": TAPE_VERSION, "interactions": self.entries},
            sort_keys=False,
            allow_unicode=True,
        )
        leaked = find_secret(text, self.book)
        if leaked:
            raise CassetteError(
                f"{self.path}: refusing to save this SSH recording: the value of {leaked} "
                "would be written in it. Nothing was saved."
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".yaml.partial")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)


def _problem(path: Path, detail: str) -> CassetteError:
    return CassetteError(
        f"{path}: this SSH recording cannot be replayed: {detail}. Re-record it with "
        "--image-record-mode=rewrite (and credentials), or restore it from version control."
    )


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(read_text_bounded(path))
    except (InputFileError, UnicodeDecodeError) as error:
        raise _problem(path, f"it cannot be read ({error})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise _problem(path, f"{where}invalid YAML") from None
    if not isinstance(data, dict) or data.get("version") != TAPE_VERSION:
        raise _problem(path, f"it is not a version {TAPE_VERSION} SSH recording")
    entries = data.get("interactions")
    if not isinstance(entries, list):
        raise _problem(path, "'interactions' is not a list")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or sum(kind in entry for kind in KINDS) != 1:
            kinds = ", ".join(KINDS)
            raise _problem(path, f"interactions[{index}] is not one SSH action ({kinds})")
        if ("run" in entry or "exec" in entry) and not isinstance(entry.get("exit_status"), int):
            raise _problem(path, f"interactions[{index}].exit_status is missing or not a number")
    return entries


def encode_files(root: Path) -> dict[str, str]:
    """A downloaded file or tree as {relative name: base64}, for the tape."""
    if root.is_file():
        return {".": base64.b64encode(root.read_bytes()).decode()}
    return {
        p.relative_to(root).as_posix(): base64.b64encode(p.read_bytes()).decode()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def decode_files(files: dict[str, str], local: Path) -> None:
    for name, data in files.items():
        target = local if name == "." else local / name
        if name != "." and not target.resolve().is_relative_to(local.resolve()):
            raise CassetteError(f"a recorded download names {name!r}, outside {local}.")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))


_ACTIVE: list[SshTape] = []


def active_tape() -> SshTape | None:
    """The tape of the innermost cassette in use, or None (recording off, unrecorded build)."""
    return _ACTIVE[-1] if _ACTIVE else None


@contextmanager
def open_tape(
    cassette: Path,
    replaying: bool,
    scrubber: Scrubber,
    book: SecretBook,
    mode: str,
    save_to: Callable[[Path], Path] = lambda path: path,
) -> Iterator[SshTape]:
    """The SSH tape beside ``cassette`` for the duration; saved when recording, to where
    ``save_to`` says (the session's staging folder: a recording replaces good cassettes only
    once it succeeded)."""
    path = tape_path(cassette)
    tape = SshTape.open(path, replaying, scrubber, book, mode)
    _ACTIVE.append(tape)
    try:
        yield tape
    finally:
        _ACTIVE.remove(tape)
        tape.save(save_to(path))  # like vcrpy, keep what a failed build did
        staged = save_to(cassette)
        if not replaying and tape.entries and not staged.exists():
            # A test that only spoke SSH still needs its HTTP cassette for replay to find.
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_text(EMPTY_CASSETTE, encoding="utf-8")

"""One object per pytest session that wraps builds, launches and tests in cassettes.

It sits beside the build flow, never inside it: builders get a clock and endpoints in their
options and never ask whether they are replaying.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # vcr is imported when a cassette is used: not by a validate-only run
    from vcr.errors import CannotOverwriteExistingCassetteException

from ..clock import REAL_CLOCK, VirtualClock
from ..errors import ImagebuildError
from ..secrets import hide_in_logs
from ..template import RunContext
from ..template.names import seed_name
from .blocking import network_blocked
from .cassettes import (
    CassetteError,
    ScrubbedPersister,
    cassette_path,
    read_metadata,
    template_cassettes,
)
from .match import MATCH_ON, answer_to, body_matcher
from .modes import effective_mode, replays_only, vcr_mode
from .placeholders import SecretBook, placeholder_for
from .scrub import PublicAddresses, Scrubber
from .ssh_tape import SshNotInCassette, open_tape
from .staging import StagedCassettes, is_staging
from .user_config import UserVcrConfig
from .vcr_compat import ensure_release_conn

METADATA_KEY = "imagebuild"


class NotInCassette(ImagebuildError):
    pass


@dataclass(frozen=True)
class RecordingSettings:
    mode: str = ""
    root: Path = Path("cassettes")
    block_network: bool = False
    can_record: bool = False
    rootdir: Path = Path(".")  # cassette folders mirror template paths relative to it
    allowed_hosts: tuple[str, ...] = ()


@dataclass
class TemplateRun:
    """How a recorded template renders: the recording's start time, placeholders for its
    sensitive variables and the endpoints it talked to, so a replay asks the same things."""

    run: RunContext
    variables: dict[str, str] = field(default_factory=dict)
    endpoints: dict[str, str] | None = None


def _miss_message(error: CannotOverwriteExistingCassetteException, path: Path, mode: str) -> str:
    request = error.failed_request
    text = (
        f"{request.method} {request.uri} is not in the cassette {path} (record mode {mode}), "
        "so it cannot be replayed"
    )
    similar = _similar_requests(error)
    if similar:
        closest, _, failed = similar[0]
        reasons = "; ".join(f"{name}: {message}" for name, message in failed)
        text += f". Closest recorded request: {closest.method} {closest.uri} ({reasons})"
    return (
        text + ". The template or the code changed since the recording: undo the change, or "
        "re-record with --image-record-mode=rewrite and Azure credentials."
    )


def _similar_requests(error: CannotOverwriteExistingCassetteException) -> list[Any]:
    """vcrpy 9 attaches the closest recorded requests to the error; older vcrpy (all pip
    offers Python 3.10) only has the cassette, which can still be asked."""
    similar = getattr(error, "similar_requests", None)
    if similar is not None:
        return list(similar)
    finder = getattr(getattr(error, "cassette", None), "find_requests_with_most_matches", None)
    return list(finder(error.failed_request)) if finder is not None else []


def _cassette_miss(error: BaseException) -> CannotOverwriteExistingCassetteException | None:
    from vcr.errors import CannotOverwriteExistingCassetteException

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, CannotOverwriteExistingCassetteException):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _answer_live_message_ids(cassette: Any) -> None:
    """Played WinRM responses carry the live request's message id (see match.answer_to)."""
    play = cassette.play_response

    def play_response(request: Any) -> Any:
        return answer_to(request, play(request))

    cassette.play_response = play_response


class CassetteRecorder:
    def __init__(self, settings: RecordingSettings):
        self.settings = settings
        self.addresses = PublicAddresses()
        self.user_config = UserVcrConfig()  # the project's imagebuild_vcr_config
        self._runs: dict[Path, TemplateRun] = {}
        self.staged = StagedCassettes()

    def build_cassette(self, template: Path, build: str) -> Path:
        return self.path(template, build, "build")

    def path(self, template: Path, build: str, name: str) -> Path:
        """Where the cassette of one build, launch or test of a template lives."""
        return cassette_path(self.settings.root, template, build, name, self.settings.rootdir)

    def template_run(self, template: Path) -> TemplateRun:
        """How a recorded template renders: as its recording did, or as a new recording will.

        Only asked about templates whose builders are recorded (see RecordingSession)."""
        template = template.resolve()
        if template not in self._runs:
            self._runs[template] = self._template_run(template)
        return self._runs[template]

    def _template_run(self, template: Path) -> TemplateRun:
        seed = f"pytest-imagebuild:{seed_name(template)}"
        if self.settings.mode not in ("all", "rewrite"):
            folder = template_cassettes(self.settings.root, self.settings.rootdir, template)
            builds = [c for c in sorted(folder.glob("*/build.yaml")) if not is_staging(c.parent)]
            for cassette in builds:
                meta = read_metadata(cassette).get(METADATA_KEY)
                if isinstance(meta, dict) and "started" in meta:
                    try:
                        started = datetime.fromtimestamp(int(meta["started"]), tz=timezone.utc)
                        return TemplateRun(
                            RunContext.create(seed, started),
                            {str(k): str(v) for k, v in (meta.get("variables") or {}).items()},
                            {str(k): str(v) for k, v in (meta.get("endpoints") or {}).items()},
                        )
                    except (TypeError, ValueError, AttributeError, OverflowError, OSError):
                        raise CassetteError(
                            f"{cassette}: this cassette cannot be replayed: its '{METADATA_KEY}' "
                            "metadata is not what a recording writes (started, variables, "
                            "endpoints). Re-record it with --image-record-mode=rewrite (and "
                            "credentials), or restore it from version control."
                        ) from None
        return TemplateRun(RunContext.create(seed))

    def metadata(self, run: TemplateRun, sensitive: dict[str, str], endpoints: dict[str, str]):
        """What a build cassette keeps about its run (no secret: placeholders only)."""
        return {
            "started": int(run.run.started.timestamp()),
            "variables": {name: placeholder_for(name, v) for name, v in sensitive.items() if v},
            "endpoints": {k: v for k, v in endpoints.items() if v},
        }

    @contextmanager
    def use(
        self,
        template: Path,
        build: str,
        name: str,
        book: SecretBook,
        metadata: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Record or replay the HTTP inside; yields build options (the clock to use)."""
        path = self.path(template, build, name)
        mode = effective_mode(self.settings.mode, path, self.settings.can_record)
        if mode == "none" and not path.exists():
            raise CassetteError(
                f"{path}: no cassette to replay {name!r} of {template.name} [{build}] from. "
                "Record it with --image-record-mode=once and Azure credentials "
                "(see cassettes/README.md)."
            )
        replaying = replays_only(mode, path)
        hide_in_logs(*book.named.values())  # vcrpy logs requests before the scrubber sees them
        if not replaying:
            self.staged.begin(path)
        try:
            with self._use(path, mode, replaying, book, metadata) as options:
                yield options
        except BaseException:
            if not replaying:
                self.staged.failed(path)
            raise

    def finish(self) -> list[str]:
        """Session end: move successful recordings into place (see staging.py)."""
        return self.staged.finish()

    @contextmanager
    def _use(
        self,
        path: Path,
        mode: str,
        replaying: bool,
        book: SecretBook,
        metadata: dict[str, Any] | None,
    ) -> Iterator[dict[str, Any]]:
        import vcr

        ensure_release_conn()
        scrubber = Scrubber(book, self.addresses)
        recorder = vcr.VCR(
            record_mode=vcr_mode(mode),
            decode_compressed_response=True,
            serializer="yaml",
            **self.user_config.vcr_settings(MATCH_ON, scrubber.request, scrubber.response),
        )
        recorder.register_matcher("imagebuild_body", body_matcher)
        for matcher_name, matcher in self.user_config.matchers().items():
            if matcher is not None:
                recorder.register_matcher(matcher_name, matcher)
        # rewrite starts from an empty cassette; the old one stays until the new one is good.
        recorder.register_persister(
            ScrubbedPersister(
                book,
                save_to=self.staged.staged,
                fresh=mode == "rewrite",
                allowed=self.user_config.secret_scan_allow,
            )
        )
        options: dict[str, Any] = {"clock": VirtualClock() if replaying else REAL_CLOCK}
        with ExitStack() as stack:
            cassette = stack.enter_context(recorder.use_cassette(str(path)))
            _answer_live_message_ids(cassette)
            stack.enter_context(warnings.catch_warnings())
            # requests-ntlm cannot see TLS certificates through vcrpy's connections.
            warnings.filterwarnings("ignore", message=".*non urllib3 backend.*")
            if metadata is not None and not replaying:
                cassette.get_metadata(METADATA_KEY, metadata)
                cassette._metadata[METADATA_KEY] = metadata  # "all" keeps old metadata otherwise
                cassette.dirty = True
            if replaying or self.settings.block_network:
                why = "replaying from cassettes" if replaying else "--image-block-network"
                allowed = self.settings.allowed_hosts
                stack.enter_context(network_blocked(f"{why} ({path})", allowed))
            stack.enter_context(
                open_tape(path, replaying, scrubber, book, mode, self.staged.staged)
            )
            try:
                yield options
            except SshNotInCassette as error:
                raise NotInCassette(str(error)) from None
            except Exception as error:
                miss = _cassette_miss(error)
                if miss is None:
                    raise
                raise NotInCassette(_miss_message(miss, path, mode)) from None

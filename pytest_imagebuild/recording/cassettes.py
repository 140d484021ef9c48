"""Cassette files: where they live, reading them with clear errors, and a last scan for secrets
before anything is written."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ..bounded_read import InputFileError, read_text_bounded
from ..errors import ImagebuildError
from ..safepath import component, inside
from ..secrets import encoded_forms
from ..template.names import template_folder
from .placeholders import SecretBook
from .user_config import without_allowed
from .yamlio import TooDeep, safe_load


class CassetteError(ImagebuildError):
    """A cassette that cannot be used, or must not be written."""


def safe_name(text: str) -> str:
    """A file-name-safe form of a test or build name."""
    return component(text)


def template_cassettes(root: Path, rootdir: Path, template: Path) -> Path:
    """cassettes/<template path below the rootdir, without its suffix>, inside root."""
    return inside(root, root / template_folder(template, rootdir), "a cassette")


def build_folder(root: Path, rootdir: Path, template: Path, build: str) -> Path:
    """cassettes/<template>/<build>, inside root."""
    folder = template_cassettes(root, rootdir, template) / component(build)
    return inside(root, folder, "a cassette")


def cassette_path(root: Path, template: Path, build: str, name: str, rootdir: Path) -> Path:
    """cassettes/<template>/<build>/<name>.yaml (see build_folder)."""
    return build_folder(root, rootdir, template, build) / f"{component(name)}.yaml"


def _problem(path: Path, detail: str) -> CassetteError:
    return CassetteError(
        f"{path}: this cassette cannot be replayed: {detail}. Re-record it with "
        "--image-record-mode=rewrite (and credentials), or restore it from version control."
    )


def check_cassette(path: Path, data: Any) -> None:
    """The shape vcrpy writes: version 1, a list of interactions with request and response."""
    if not isinstance(data, dict) or "interactions" not in data:
        raise _problem(path, "it has no 'interactions' list at the top")
    if data.get("version") != 1:
        raise _problem(path, f"version is {data.get('version')!r}, expected 1")
    interactions = data["interactions"]
    if not isinstance(interactions, list):
        raise _problem(path, "'interactions' is not a list")
    for index, item in enumerate(interactions):
        where = f"interactions[{index}]"
        if not isinstance(item, dict) or not {"request", "response"} <= item.keys():
            raise _problem(path, f"{where} lacks a request or a response")
        request, response = item["request"], item["response"]
        for key in ("method", "uri"):
            if not isinstance(request, dict) or not isinstance(request.get(key), str):
                raise _problem(path, f"{where}.request.{key} is missing or not text")
        status = response.get("status") if isinstance(response, dict) else None
        if not isinstance(status, dict) or not isinstance(status.get("code"), int):
            raise _problem(path, f"{where}.response.status.code is missing or not a number")


def read_cassette(path: Path) -> dict[str, Any]:
    """The parsed cassette, or CassetteError naming the file, line and problem."""
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "no such cassette", str(path))
    try:
        text = read_text_bounded(path)
    except InputFileError as error:
        raise _problem(path, f"it cannot be read ({error.reason})") from None
    except UnicodeDecodeError as error:
        raise _problem(path, f"it cannot be read ({error})") from None
    try:
        data = safe_load(text)
    except TooDeep:
        raise _problem(path, "invalid YAML (nested too deeply to read)") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise _problem(path, f"{where}invalid YAML ({problem})") from None
    except RecursionError:
        raise _problem(path, "invalid YAML (nested too deeply to read)") from None
    except Exception as error:  # a value PyYAML can tag but not build: a huge int, a bad date
        detail = f"{type(error).__name__}: {error}"[:200]
        raise _problem(path, f"invalid YAML value ({detail})") from None
    check_cassette(path, data)
    return data


def read_metadata(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    metadata = read_cassette(path).get("metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def find_secret(text: str, book: SecretBook) -> str | None:
    """The name of a known secret still present in text, if any."""
    for value, name in book.names().items():
        if any(form in text for form in encoded_forms(value)):
            return name
    return None


class _AlreadyParsed:
    """A vcrpy serializer whose input is the cassette read_cassette already parsed."""

    @staticmethod
    def deserialize(data: dict[str, Any]) -> dict[str, Any]:
        return data


class ScrubbedPersister:
    """vcrpy persister that validates on load and refuses to save a cassette holding a secret."""

    def __init__(
        self,
        book: SecretBook,
        save_to: Callable[[Path], Path] | None = None,
        fresh: bool = False,
        allowed: tuple[str, ...] = (),
    ):
        self.book = book
        self.save_to = save_to  # where a recorded cassette goes (staging.py), else in place
        self.fresh = fresh  # load nothing: a rewrite
        self.allowed = allowed  # texts the project says merely contain a secret's value

    def load_cassette(self, cassette_path: str | Path, serializer: Any) -> Any:
        path = Path(cassette_path)
        # vcr imported here, when a cassette is used: not by a validate-only run
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.serialize import deserialize

        if self.fresh or not path.is_file():
            raise CassetteNotFoundError()
        data = read_cassette(path)
        try:
            # vcrpy turns the dict read above into requests and responses: no second parse.
            return deserialize(data, _AlreadyParsed)
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            detail = f"an interaction is not as vcrpy writes it ({type(error).__name__}: {error})"
            raise _problem(path, detail[:300]) from None

    def save_cassette(self, cassette_path: str | Path, cassette_dict: Any, serializer: Any) -> None:
        path = Path(cassette_path)
        path = self.save_to(path) if self.save_to else path
        from vcr.serialize import serialize

        text = serialize(cassette_dict, serializer)
        scanned = without_allowed(text, self.allowed)
        leaked = find_secret(scanned, self.book)
        if leaked:
            lines = enumerate(scanned.splitlines(), 1)
            number = next((n for n, line in lines if find_secret(line, self.book)), 0)
            raise CassetteError(
                f"{path}: refusing to save this cassette: the value of {leaked} would be "
                f"written at line {number} of it. Nothing was saved. If a header, query "
                "parameter or body field carries it, remove it with filter_headers, "
                "filter_query_parameters or before_record_request in an imagebuild_vcr_config "
                "fixture in your conftest.py; if that line only contains the value by chance "
                "(a word that includes a short password), list that text under "
                "secret_scan_allow there."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".yaml.partial")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)

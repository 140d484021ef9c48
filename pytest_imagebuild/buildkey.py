"""The content key of a build: what the image is made of, so an image is reused only when
nothing that went into it changed.

The key is a SHA-256 over three things:

* the rendered build plan (builder config, provisioners, post-processors, error-cleanup
  provisioner) after variables and functions, rendered a second time with a fixed run
  context, so that ``{{timestamp}}``, ``timestamp()``, ``{{uuid}}``, ``uuidv4()`` and
  ``isotime`` give the same text on every run and do not change the key. The template's
  folder and the working directory are written as ``{{template_dir}}`` and ``{{pwd}}``, so a
  checkout elsewhere keeps its keys;
* the contents of every local file or folder the build sends to the machine or starts from
  (the keys in ``LOCAL_FILE_KEYS``: provisioner ``script``/``scripts``/``source``/``sources``,
  builder ``iso_url``/``iso_urls``, ``cd_files``, ``floppy_files``, ``floppy_dirs``,
  ``http_directory``, azure-arm's ``custom_data_file``), by content, never by modification
  time; a path that names no local file counts as its text (a URL, a remote path);
* the builder type's semantics version (``BuilderType.semantics_version``), bumped by the
  provider whenever its builder makes a different image from the same inputs.

Change one line of a provisioned script, or one variable, and the key changes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import digests
from .catalogue import catalogue
from .secrets import SENSITIVE_FIELDS
from .template import RunContext, plan_builds
from .template.loader import read_template
from .template.model import BuildPlan, Stage

# A run context whose timestamp, uuid and seed are the same in every run.
KEY_RUN_SEED = "imagebuild-key"
KEY_RUN_STARTED = datetime(2000, 1, 1, tzinfo=timezone.utc)
# Keys whose values are local files or folders the build reads (by content in the key).
LOCAL_FILE_KEYS = frozenset(
    {
        "script",
        "scripts",
        "source",
        "sources",
        "iso_url",
        "iso_urls",
        "cd_files",
        "floppy_files",
        "floppy_dirs",
        "http_directory",
        "custom_data_file",
    }
)
# Who builds, not what: never part of the key.
CREDENTIAL_KEYS = SENSITIVE_FIELDS | {"client_id", "tenant_id", "subscription_id", "object_id"}
SHORT = 12  # how many hex digits messages show

_DIGESTS: dict[tuple[str, int, int, int], str] = {}


def key_run_context(cwd: Path | None = None) -> RunContext:
    """The fixed run context the key renders the template with."""
    run = RunContext.create(seed=KEY_RUN_SEED, started=KEY_RUN_STARTED)
    return replace(run, cwd=cwd) if cwd is not None else run


def short(key: str) -> str:
    return key[:SHORT]


def semantics_version(builder_type: str) -> str:
    entry = catalogue().builder_type(builder_type)
    return entry.semantics_version if entry is not None else "0"


def build_key(
    path: Path,
    build_name: str,
    variables: Mapping[str, str],
    var_files: Sequence[Path] = (),
) -> str | None:
    """The content key of one build; None when the template cannot be rendered for it."""
    template, problems = read_template(path, variables, var_files, key_run_context())
    if template is None or any(not p.warning for p in problems):
        return None
    plans, _ = plan_builds(template, only=(build_name,))
    if not plans:
        return None
    return plan_key(plans[0])


def plan_key(plan: BuildPlan) -> str:
    """The key of a plan rendered with ``key_run_context()``."""
    template_dir = str(plan.template.directory.resolve())
    cwd = str(plan.template.run.cwd)
    document = {
        "semantics": [plan.type, semantics_version(plan.type)],
        "name": plan.name,
        "builder": plan.config,
        "provisioners": [_stage(stage) for stage in plan.provisioners],
        "post-processors": [[_stage(stage) for stage in chain] for chain in plan.post_processors],
        "error-cleanup": _stage(plan.error_cleanup) if plan.error_cleanup else None,
    }
    files: dict[str, str] = {}
    for value in _local_paths(document):
        files[value] = _path_digest(value, plan.template.directory)
    text = json.dumps([_without_secrets(document), files], sort_keys=True, default=str)
    text = text.replace(template_dir, "{{template_dir}}").replace(cwd, "{{pwd}}")
    for secret in sorted(plan.secrets(), key=len, reverse=True):
        text = text.replace(json.dumps(secret)[1:-1], "<secret>") if secret else text
    return hashlib.sha256(text.encode()).hexdigest()


def _without_secrets(node: Any) -> Any:
    """Credentials decide who builds, not what: a rotated secret keeps the key (and a replay,
    which renders them as recorded placeholders, computes the same key)."""
    if isinstance(node, Mapping):
        return {k: _without_secrets(v) for k, v in node.items() if k not in CREDENTIAL_KEYS}
    if isinstance(node, list):
        return [_without_secrets(v) for v in node]
    return node


def _stage(stage: Stage) -> dict[str, Any]:
    return {"type": stage.type, "config": stage.config}


def _local_paths(node: Any) -> Iterable[str]:
    """Every string under a LOCAL_FILE_KEYS key, anywhere in the document."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in LOCAL_FILE_KEYS:
                yield from _strings(value)
            else:
                yield from _local_paths(value)
    elif isinstance(node, list):
        for value in node:
            yield from _local_paths(value)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _path_digest(value: str, template_dir: Path) -> str:
    """sha256 of a local file (or of a folder's names and files); the text itself otherwise."""
    if not value or ("://" in value and not value.startswith("file://")):
        return "text"
    path = Path(value.removeprefix("file://"))
    if not path.is_absolute():
        path = Path.cwd() / path  # Packer resolves these against the working directory
    try:
        if path.is_file():
            return "file:" + file_digest(path)
        if path.is_dir():
            return "dir:" + _folder_digest(path)
    except OSError as error:
        return f"unreadable:{error.strerror}"
    return "missing"


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, remembered per (path, size, mtime, inode) within a process."""
    stat = path.stat()
    memo = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if memo not in _DIGESTS:
        _DIGESTS[memo] = digests.file_digest(path)
    return _DIGESTS[memo]


def _folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            file = Path(root) / name
            relative = file.relative_to(folder).as_posix()
            digest.update(f"{relative}\0{file_digest(file)}\0".encode())
    return digest.hexdigest()

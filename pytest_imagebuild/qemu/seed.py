"""CD images for a guest: Packer's ``cd_files``/``cd_content`` and cloud-init NoCloud seeds.

A NoCloud seed is just a CD labelled ``cidata`` holding ``user-data`` and ``meta-data``; it is
how a cloud image gets a user, an SSH key and a hostname when no metadata server exists.
"""

from __future__ import annotations

import glob
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from .. import process
from ..errors import BuildError, ImagebuildError

DEFAULT_LABEL = "cidata"


def make_cd(
    out: Path,
    *,
    cd_files: Iterable[str | Path] = (),
    cd_content: Mapping[str, str | bytes] | None = None,
    cd_label: str = DEFAULT_LABEL,
    base_dir: Path | None = None,
) -> Path:
    """Write an ISO 9660 image (Rock Ridge + Joliet, so names stay intact) at ``out``.

    As in Packer: a file lands in the CD root under its own name; a directory lands there with
    its subtree, or only its subtree when written with a trailing slash; globs expand; an entry
    of ``cd_content`` wins over a file of the same path.
    """
    with tempfile.TemporaryDirectory(prefix="pytest-imagebuild-cd-") as staging:
        root = Path(staging)
        for pattern in cd_files:
            for source in _expand(str(pattern), base_dir):
                _add_path(root, source, keep_dir=not str(pattern).endswith("/"))
        for name, content in (cd_content or {}).items():
            target = _inside(root, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode() if isinstance(content, str) else content
            target.write_bytes(data)
        if not any(root.iterdir()):
            raise ImagebuildError("cd_files and cd_content are empty: nothing to put on the CD.")
        out.parent.mkdir(parents=True, exist_ok=True)
        process.run(
            [*_iso_tool(), "-quiet", "-rock", "-joliet", "-volid", cd_label, "-output", out, root],
            timeout=120,
        )
    return out


def _iso_tool() -> list[str]:
    """xorriso first, as Packer does, then the genisoimage family."""
    for name, prefix in (("xorriso", ["-as", "genisoimage"]), ("genisoimage", []), ("mkisofs", [])):
        path = shutil.which(name)
        if path:
            return [path, *prefix]
    raise BuildError(
        "No ISO creation tool found (xorriso, genisoimage or mkisofs); install the Debian "
        "package xorriso or genisoimage."
    )


def _expand(pattern: str, base_dir: Path | None) -> list[Path]:
    full = Path(base_dir or ".") / pattern.rstrip("/")
    if glob.has_magic(pattern):
        matches = sorted(Path(p) for p in glob.glob(str(full)))
        if not matches:
            raise ImagebuildError(f"cd_files: {pattern!r} matches no file.")
        return matches
    if not full.exists():
        raise ImagebuildError(f"cd_files: {pattern!r} does not exist ({full}).")
    return [full]


def _add_path(root: Path, source: Path, *, keep_dir: bool) -> None:
    if source.is_dir():
        target = root / source.name if keep_dir else root
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copyfile(source, root / source.name)


def _inside(root: Path, name: str) -> Path:
    target = (root / name.lstrip("/")).resolve()
    if not target.is_relative_to(root.resolve()) or target == root.resolve():
        raise ImagebuildError(f"cd_content: {name!r} is not a file path inside the CD.")
    return target


def cloud_init_seed(
    user: str,
    public_key: str,
    *,
    password: str | None = None,
    hostname: str = "pytest-imagebuild",
    instance_id: str | None = None,
) -> dict[str, str]:
    """``user-data`` and ``meta-data`` giving ``user`` passwordless sudo and the SSH key.

    A password also turns on SSH password authentication, which Debian's cloud images keep off.
    A fresh instance id makes cloud-init treat every boot of a reused disk as a new instance.
    """
    account: dict[str, object] = {
        "name": user,
        "sudo": "ALL=(ALL) NOPASSWD:ALL",
        "shell": "/bin/bash",
        "lock_passwd": password is None,
        "ssh_authorized_keys": [public_key.strip()],
    }
    config: dict[str, object] = {"users": [account], "ssh_pwauth": password is not None}
    if password is not None:
        account["plain_text_passwd"] = password
    meta = {
        "instance-id": instance_id or f"iid-{uuid.uuid4().hex[:12]}",
        "local-hostname": hostname,
    }
    return {
        "user-data": "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False),
        "meta-data": yaml.safe_dump(meta, sort_keys=False),
    }


def make_seed(
    out: Path,
    user: str,
    public_key: str,
    *,
    password: str | None = None,
    hostname: str = "pytest-imagebuild",
) -> Path:
    """A NoCloud seed ISO for one user; the common case of :func:`make_cd`."""
    content = cloud_init_seed(user, public_key, password=password, hostname=hostname)
    return make_cd(out, cd_content=content)


def authorize_key(user_data: str, user: str, public_key: str) -> str | None:
    """``user_data`` with ``public_key`` added to ``user``'s keys; None if it is not cloud-config.

    Lets a template's own NoCloud seed work with the build's temporary key pair: the user entry
    is kept as written (sudo, groups...), only the key is added; a missing entry is created.
    """
    if not user_data.lstrip().startswith("#cloud-config"):
        return None
    try:
        config = yaml.safe_load(user_data) or {}
    except yaml.YAMLError as error:
        raise ImagebuildError(f"user-data is not valid YAML: {error}") from None
    if not isinstance(config, dict):
        return None
    users = config.get("users")
    users = list(users) if isinstance(users, list) else ["default"]
    entry = next((u for u in users if isinstance(u, dict) and u.get("name") == user), None)
    if entry is None:
        entry = {"name": user, "sudo": "ALL=(ALL) NOPASSWD:ALL", "shell": "/bin/bash"}
        users.append(entry)
    keys = entry.get("ssh_authorized_keys") or []
    entry["ssh_authorized_keys"] = [*(keys if isinstance(keys, list) else [keys]), public_key]
    config["users"] = users
    return "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False)


def seed_user_data(
    cd_files: Iterable[str | Path], cd_content: Mapping[str, str], base_dir: Path | None = None
) -> str | None:
    """The ``user-data`` the CD would carry at its root, from cd_content or cd_files."""
    if "user-data" in cd_content:
        return cd_content["user-data"]
    found = None
    for pattern in cd_files:
        keep_dir = not str(pattern).endswith("/")
        for source in _expand(str(pattern), base_dir):
            candidate = source / "user-data" if source.is_dir() and not keep_dir else source
            if candidate.name == "user-data" and candidate.is_file():
                found = candidate.read_text()
    return found

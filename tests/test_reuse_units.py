"""The iteration loop's parts, fast: what changes a build key and what does not, the image
cache's size limit and eviction order, and the janitor naming kept things as kept."""

from __future__ import annotations

import io
import json
import os
import socket
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_imagebuild import buildkey
from pytest_imagebuild.catalogue import catalogue
from pytest_imagebuild.cleanup.cleaners import Found
from pytest_imagebuild.cleanup.command import JanitorRequest, run_janitor
from pytest_imagebuild.cleanup.janitor import Janitor
from pytest_imagebuild.cleanup.journal import Journal, Owner
from pytest_imagebuild.errors import ImagebuildError
from pytest_imagebuild.reuse import cache as cache_module
from pytest_imagebuild.reuse.cache import ImageCache
from pytest_imagebuild.reuse.registry import KeptThing, Registry
from pytest_imagebuild.reuse.settings import parse_size

# -- build key ---------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A template provisioning a script and a folder (paths relative to the working
    directory, as Packer resolves them), with a variable and run-dependent functions."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "setup.sh").write_text("apt-get install -y nginx\n")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "index.html").write_text("<h1>hello</h1>\n")
    template = {
        "variables": {"motd": "welcome", "password": "s3cret-Passw0rd"},
        "sensitive-variables": ["password"],
        "builders": [
            {
                "type": "null",
                "name": "box",
                "communicator": "none",
            }
        ],
        "provisioners": [
            {
                "type": "shell",
                "inline": [
                    "echo built {{timestamp}} {{isotime}} as {{uuid}}",
                    "echo {{user `motd`}} > /etc/motd",
                    "echo {{user `password`}} | chpasswd",
                ],
            },
            {"type": "shell", "script": "scripts/setup.sh"},
            {"type": "file", "source": "files", "destination": "/var/www/html"},
        ],
    }
    (tmp_path / "t.json").write_text(json.dumps(template, indent=1))
    return tmp_path


def key(project: Path, **variables: str) -> str:
    found = buildkey.build_key(project / "t.json", "box", variables)
    assert found is not None and len(found) == 64
    return found


def test_timestamp_uuid_and_isotime_do_not_change_the_key(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = key(project)
    # An hour later, in a fresh process (new random seed): same key.
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert key(project) == first


def test_a_changed_inline_line_changes_the_key(project: Path) -> None:
    first = key(project)
    template = json.loads((project / "t.json").read_text())
    template["provisioners"][0]["inline"].append("echo one more")
    (project / "t.json").write_text(json.dumps(template))
    assert key(project) != first


def test_a_changed_provisioned_script_changes_the_key_a_touch_does_not(project: Path) -> None:
    first = key(project)
    script = project / "scripts" / "setup.sh"
    os.utime(script, (time.time() + 100, time.time() + 100))
    assert key(project) == first, "a new modification time alone must not rebuild"
    script.write_text("apt-get install -y nginx curl\n")
    assert key(project) != first


def test_a_changed_file_in_a_provisioned_folder_changes_the_key(project: Path) -> None:
    first = key(project)
    page = project / "files" / "index.html"
    page.write_text(page.read_text() + "<p>one more line</p>\n")
    second = key(project)
    assert second != first
    (project / "files" / "extra.css").write_text("h1 {}\n")
    assert key(project) not in (first, second)


def test_a_changed_variable_changes_the_key_a_changed_secret_does_not(project: Path) -> None:
    first = key(project)
    assert key(project, motd="welcome") == first
    assert key(project, motd="goodbye") != first
    assert key(project, password="an0ther-Passw0rd") == first


def test_the_key_does_not_contain_the_secret_and_moves_with_the_checkout(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = key(project)
    elsewhere = tmp_path_factory.mktemp("checkout")
    for name in ("t.json", "scripts/setup.sh", "files/index.html"):
        (elsewhere / name).parent.mkdir(parents=True, exist_ok=True)
        (elsewhere / name).write_bytes((project / name).read_bytes())
    monkeypatch.chdir(elsewhere)
    assert key(elsewhere) == first


def test_the_builders_semantics_version_changes_the_key(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = key(project)
    builders = catalogue().builders
    monkeypatch.setitem(builders, "null", replace(builders["null"], semantics_version="99"))
    assert key(project) != first


# -- image cache -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("20G", 20 << 30),
        ("500M", 500 << 20),
        ("1.5G", 3 << 29),
        ("10GiB", 10 << 30),
        ("64k", 64 << 10),
        ("1073741824", 1 << 30),
        (" 2 T ", 2 << 40),
    ],
)
def test_cache_sizes_parse(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "-1G", "20X", "1,5G"])
def test_a_bad_cache_size_names_the_key_and_the_value(text: str) -> None:
    with pytest.raises(ImagebuildError) as raised:
        parse_size(text)
    assert "image_cache_size" in str(raised.value) and repr(text) in str(raised.value)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The cache's clock, advanced by hand: last uses are strictly ordered."""
    now = [1000.0]
    monkeypatch.setattr(cache_module, "time", SimpleNamespace(time=lambda: now[0]))
    return now


def add(cache: ImageCache, key: str, size: int, clock: list[float]) -> None:
    clock[0] += 10
    staging = cache.staging(key)
    (staging / "disk.qcow2").write_bytes(b"x" * size)
    cache.commit(key, staging, {"name": key, "file": "disk.qcow2"})


def test_the_least_recently_used_image_goes_first(tmp_path: Path, clock: list[float]) -> None:
    cache = ImageCache(tmp_path / "cache", limit=3800)  # three images and their entry.json
    for name in ("a", "b", "c"):
        add(cache, name, 1000, clock)
    clock[0] += 10
    assert cache.lookup("a") is not None  # used: now the most recent
    add(cache, "d", 1000, clock)
    assert sorted(e.key for e in cache.entries()) == ["a", "c", "d"]
    clock[0] += 10
    assert cache.lookup("c") is not None
    add(cache, "e", 1000, clock)
    assert sorted(e.key for e in cache.entries()) == ["c", "d", "e"]


def test_an_image_in_use_and_the_new_one_are_never_evicted(
    tmp_path: Path, clock: list[float]
) -> None:
    cache = ImageCache(tmp_path / "cache", limit=1500)
    add(cache, "old", 1000, clock)
    with cache.lock("old"):  # a run is testing it
        add(cache, "new", 1000, clock)
        assert sorted(e.key for e in cache.entries()) == ["new", "old"]
    add(cache, "big", 4000, clock)  # bigger than the limit alone: kept, the others go
    assert [e.key for e in cache.entries()] == ["big"]
    assert (cache.folder("big") / "disk.qcow2").stat().st_size == 4000


# -- the janitor and kept things ---------------------------------------------------------------


def _dead_run(root: Path, *paths: Path) -> None:
    """A journal of a run that is gone (same pid, other start time: not this process)."""
    owner = Owner("run-gone", os.getpid(), -1, socket.gethostname())
    journal = Journal(root, owner)
    for path in paths:
        journal.created("path", str(path))


def _kept_vm(root: Path, name: str, **data: Any) -> None:
    Registry(root).add(
        KeptThing(
            name=name,
            kind="vm",
            key="ab" * 32,
            builder_type="qemu",
            where="local",
            reach=["ssh -p 2222 debian@127.0.0.1"],
            data=data,
        )
    )


def test_the_janitor_lists_kept_vms_as_kept_and_leaves_them(tmp_path: Path) -> None:
    root = tmp_path / "state"
    leaked, kept = tmp_path / "leaked-overlay", root / "kept" / "test_web-abc"
    leaked.mkdir()
    kept.mkdir(parents=True)
    _dead_run(root, leaked, kept)
    _kept_vm(root, "test_web-1234", folder=str(kept), resources=[str(kept)])

    status, listing = _janitor(root)
    assert status == 0, listing
    assert "1 resource left behind" in listing
    leftovers, _, kept_part = listing.partition("kept on purpose")
    assert str(leaked) in leftovers and str(kept) not in leftovers
    assert "1 thing kept on purpose (--image-keep), not leftovers" in listing
    assert "test_web-1234" in kept_part and "kept" in kept_part
    assert "pytest_imagebuild destroy NAME" in kept_part

    status, deleting = _janitor(root, yes=True)
    assert status == 0, deleting
    assert not leaked.exists()
    assert kept.is_dir(), "the janitor deleted a VM kept on purpose"
    assert Registry(root).get("test_web-1234") is not None


def test_a_kept_vms_tagged_cloud_group_is_not_a_leftover(tmp_path: Path) -> None:
    """Azure groups are found by tag too: a kept VM's group is named as kept, not deleted."""
    root = tmp_path / "state"
    _kept_vm(root, "test_gallery-77", resource_group="pkr-Resource-Group-keep")

    class Tagged:
        def scan(self, report: Any) -> list[Found]:
            return [
                Found("azure-group", "PKR-RESOURCE-GROUP-KEEP", "run-x", 0.0, "sub/westeurope"),
                Found("azure-group", "pkr-Resource-Group-leak", "run-x", 0.0, "sub/westeurope"),
            ]

    janitor = Janitor(root, settings={})
    janitor._cleaners["tagged"] = Tagged()  # type: ignore[assignment]
    survey = janitor.survey()
    assert [item.name for item in survey.leftovers] == ["pkr-Resource-Group-leak"]
    assert [item.name for item in survey.kept] == ["test_gallery-77"]


def test_nothing_kept_says_nothing_about_kept(tmp_path: Path) -> None:
    status, listing = _janitor(tmp_path / "state")
    assert status == 0 and "kept on purpose" not in listing, listing


def _janitor(root: Path, yes: bool = False) -> tuple[int, str]:
    out = io.StringIO()
    status = run_janitor(JanitorRequest(yes=yes, state_dir=str(root), settings={}), out)
    return status, out.getvalue()

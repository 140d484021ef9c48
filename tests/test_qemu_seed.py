"""CD images: Packer's cd_files/cd_content layout, the volume label, NoCloud seed content."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pytest_imagebuild.errors import BuildError, ImagebuildError
from pytest_imagebuild.qemu import seed

TOOLS = [name for name in ("xorriso", "genisoimage") if shutil.which(name)]


def volume_label(iso: Path) -> str:
    # The primary volume descriptor is sector 16; its volume identifier sits at byte 40.
    with iso.open("rb") as handle:
        handle.seek(16 * 2048)
        descriptor = handle.read(2048)
    assert descriptor[1:6] == b"CD001"
    return descriptor[40:72].decode("ascii").rstrip()


def extract(iso: Path, into: Path) -> dict[str, bytes]:
    """Every file on the CD, read back with xorriso (Rock Ridge names)."""
    subprocess.run(
        ["xorriso", "-osirrox", "on", "-indev", str(iso), "-extract", "/", str(into)],
        check=True,
        capture_output=True,
    )
    return {
        str(path.relative_to(into)): path.read_bytes()
        for path in sorted(into.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(params=TOOLS)
def iso_tool(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run each test with each installed ISO tool, the others hidden."""
    real_which = shutil.which
    wanted = request.param

    def which(name: str, *args: object, **kwargs: object) -> str | None:
        if name in ("xorriso", "genisoimage", "mkisofs") and name != wanted:
            return None
        return real_which(name)

    monkeypatch.setattr(seed.shutil, "which", which)
    return wanted


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "tree" / "sub").mkdir(parents=True)
    (src / "tree" / "a.txt").write_text("a")
    (src / "tree" / "sub" / "b.txt").write_text("b")
    (src / "single.cfg").write_text("single")
    (src / "one.sh").write_text("1")
    (src / "two.sh").write_text("2")
    return src


def test_cd_files_and_content_land_like_packer(
    iso_tool: str, sources: Path, tmp_path: Path
) -> None:
    iso = seed.make_cd(
        tmp_path / "out" / "cd.iso",
        cd_files=["single.cfg", "tree", "*.sh"],
        cd_content={"single.cfg": "overridden", "nested/dir/c.txt": "c"},
        cd_label="config-2",
        base_dir=sources,
    )
    assert volume_label(iso) == "config-2"
    assert extract(iso, tmp_path / "x") == {
        "nested/dir/c.txt": b"c",
        "one.sh": b"1",
        "single.cfg": b"overridden",
        "tree/a.txt": b"a",
        "tree/sub/b.txt": b"b",
        "two.sh": b"2",
    }


def test_trailing_slash_puts_directory_contents_in_root(
    iso_tool: str, sources: Path, tmp_path: Path
) -> None:
    iso = seed.make_cd(tmp_path / "cd.iso", cd_files=[f"{sources}/tree/"])
    assert volume_label(iso) == "cidata"
    assert extract(iso, tmp_path / "x") == {"a.txt": b"a", "sub/b.txt": b"b"}


def test_nocloud_seed_content(iso_tool: str, tmp_path: Path) -> None:
    iso = seed.make_seed(
        tmp_path / "seed.iso", "tester", "ssh-ed25519 AAAAkey me\n", password="pw", hostname="h1"
    )
    files = extract(iso, tmp_path / "x")
    assert volume_label(iso) == "cidata"
    assert set(files) == {"user-data", "meta-data"}
    assert files["user-data"].startswith(b"#cloud-config\n")
    user_data = yaml.safe_load(files["user-data"])
    (account,) = user_data["users"]
    assert account["name"] == "tester"
    assert account["ssh_authorized_keys"] == ["ssh-ed25519 AAAAkey me"]
    assert account["plain_text_passwd"] == "pw"
    assert account["lock_passwd"] is False
    assert user_data["ssh_pwauth"] is True
    meta = yaml.safe_load(files["meta-data"])
    assert meta["local-hostname"] == "h1"
    assert meta["instance-id"].startswith("iid-")


def test_seed_without_password_locks_it() -> None:
    first = seed.cloud_init_seed("u", "ssh-ed25519 AAAA")
    second = seed.cloud_init_seed("u", "ssh-ed25519 AAAA")
    user_data = yaml.safe_load(first["user-data"])
    assert user_data["ssh_pwauth"] is False
    assert user_data["users"][0]["lock_passwd"] is True
    assert "plain_text_passwd" not in user_data["users"][0]
    assert first["meta-data"] != second["meta-data"]  # a new instance id each time


@pytest.mark.parametrize(
    ("cd_files", "cd_content", "message"),
    [
        (["missing.txt"], None, "'missing.txt' does not exist"),
        (["*.nothing"], None, "matches no file"),
        ([], {"../escape": "x"}, "not a file path inside the CD"),
        ([], {}, "nothing to put on the CD"),
    ],
)
def test_bad_input_is_a_clear_error(
    tmp_path: Path, cd_files: list[str], cd_content: dict[str, str] | None, message: str
) -> None:
    with pytest.raises(ImagebuildError, match=message):
        seed.make_cd(
            tmp_path / "cd.iso", cd_files=cd_files, cd_content=cd_content, base_dir=tmp_path
        )


def test_no_iso_tool_names_the_packages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(seed.shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(BuildError, match="install the Debian package xorriso or genisoimage"):
        seed.make_cd(tmp_path / "cd.iso", cd_content={"a": "b"})

"""Nothing written outside its folders: hostile template and build names stay inside the base
temp and the cassette folder."""

from __future__ import annotations

import builtins
import json
import os
from pathlib import Path

import pytest

from pytest_imagebuild.recording.cassettes import cassette_path
from pytest_imagebuild.safepath import UnsafePath, component, inside

HOSTILE = ["..", ".", "../x", "../../../../../escaped", "/abs/olute", "a\0b", "", "-", "x" * 5000,
           "ünïcødé-🙂" * 40, ".hidden", "a/../../b", "C:\\win\\..\\x"]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_component_is_one_safe_file_name(name: str) -> None:
    safe = component(name)
    assert safe and "/" not in safe and "\\" not in safe and "\0" not in safe
    assert not safe.startswith(".")
    assert len(safe.encode("utf-8")) <= 100


def test_long_names_cut_differently_stay_different() -> None:
    assert component("x" * 500 + "a") != component("x" * 500 + "b")


@pytest.mark.parametrize("build", HOSTILE)
@pytest.mark.parametrize("template_name", ["...json", "..json", "web.json", "\u202e.pkr.hcl"])
def test_cassette_paths_stay_inside_the_cassette_root(
    tmp_path: Path, build: str, template_name: str
) -> None:
    root = tmp_path / "cassettes"
    path = cassette_path(root, tmp_path / template_name, build, build, tmp_path)
    assert root.resolve() in path.parents


def test_inside_refuses_a_path_that_leaves_its_root(tmp_path: Path) -> None:
    assert inside(tmp_path, Path("a/b")) == tmp_path.resolve() / "a" / "b"
    for bad in (Path("../x"), Path("a/../../x"), Path("/etc/passwd")):
        with pytest.raises(UnsafePath, match="outside"):
            inside(tmp_path, bad)
    (tmp_path / "link").symlink_to("/")
    with pytest.raises(UnsafePath):
        inside(tmp_path, Path("link/tmp"))


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every folder created and file opened for writing while the test runs."""
    paths: list[Path] = []
    real_mkdir, real_open = os.mkdir, builtins.open

    def mkdir(path: object, *args: object, **kwargs: object) -> None:
        paths.append(Path(os.path.abspath(str(path))))
        real_mkdir(path, *args, **kwargs)  # type: ignore[arg-type]

    def open_(file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if isinstance(file, str | Path) and any(c in mode for c in "wax+"):
            paths.append(Path(os.path.abspath(str(file))))
        return real_open(file, mode, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(builtins, "open", open_)
    return paths


@pytest.mark.parametrize("build", ["../../../../../escaped", "..", "/abs", "a\x00b", "é" * 300])
def test_a_hostile_qemu_build_name_writes_only_under_the_base_temp(
    pytester: pytest.Pytester, written: list[Path], build: str
) -> None:
    template = {
        "builders": [
            {
                "type": "qemu",
                "name": build,
                "disk_image": True,
                "iso_url": "missing-base.qcow2",
                "iso_checksum": "none",
                "communicator": "none",
            }
        ]
    }
    (pytester.path / "t.json").write_text(json.dumps(template))
    base = pytester.path / "a" / "b" / "c" / "base"
    base.parent.mkdir(parents=True)
    written.clear()
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-p", "no:benchmark", "--image-template", "t.json",
        f"--basetemp={base}", "-k", "build",
    )
    output = result.stdout.str()
    result.assert_outcomes(failed=1)  # the base image is missing, after the output folder
    assert "missing-base.qcow2" in output
    assert "Traceback" not in output and "FileExistsError" not in output
    state = Path(os.environ["IMAGEBUILD_STATE_DIR"])
    for path in written:
        if path == Path(os.devnull):
            continue
        assert base in path.parents or state in path.parents or path in (base, state), path
    assert not list(pytester.path.rglob("escaped"))

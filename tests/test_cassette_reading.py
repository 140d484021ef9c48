"""Cassettes are read with libyaml when PyYAML has it: as safely as with the pure-Python loader,
and once per replay (vcrpy gets the parsed cassette, not a second copy of the text)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pytest_imagebuild.recording.cassettes import CassetteError, ScrubbedPersister, read_cassette
from pytest_imagebuild.recording.placeholders import SecretBook

ROOT = Path(__file__).resolve().parents[1]
BUILD_CASSETTE = ROOT / "cassettes" / "examples" / "webserver" / "azure-arm" / "build.yaml"


@pytest.mark.parametrize("opening", ["[", "- ", "{a: "])
def test_deeply_nested_cassette_is_an_error_naming_it(tmp_path: Path, opening: str) -> None:
    # libyaml's composer recurses in C: this used to be able to crash the interpreter.
    path = tmp_path / "build.yaml"
    path.write_text(opening * 200_000 + "x")
    code = (
        "import sys; from pathlib import Path\n"
        "from pytest_imagebuild.recording.cassettes import CassetteError, read_cassette\n"
        "try:\n    read_cassette(Path(sys.argv[1]))\n"
        "except CassetteError as error:\n    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert str(path) in done.stdout
    assert "nested too deeply" in done.stdout or "invalid YAML" in done.stdout


def test_nesting_a_cassette_never_has_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "build.yaml"
    path.write_text("version: 1\ninteractions: " + "[" * 150 + "]" * 150 + "\n")
    with pytest.raises(CassetteError, match="nested too deeply"):
        read_cassette(path)


def test_shipped_cassette_reads_as_the_pure_python_loader_reads_it() -> None:
    text = BUILD_CASSETTE.read_text(encoding="utf-8")
    assert read_cassette(BUILD_CASSETTE) == yaml.load(text, Loader=yaml.SafeLoader)


def test_vcrpy_gets_the_same_interactions_without_a_second_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    expected = deserialize(BUILD_CASSETTE.read_text(encoding="utf-8"), yamlserializer)
    parses = []
    real_load = yaml.load
    monkeypatch.setattr(yaml, "load", lambda *a, **k: parses.append(1) or real_load(*a, **k))
    requests, responses, metadata = ScrubbedPersister(SecretBook()).load_cassette(
        BUILD_CASSETTE, yamlserializer
    )
    assert len(parses) == 1
    assert [(r.method, r.uri, r.body) for r in requests] == [
        (r.method, r.uri, r.body) for r in expected[0]
    ]
    assert responses == expected[1]
    assert metadata == expected[2]

"""No data loss: a failed recording never replaces good cassettes, and a run leaves no file
outside the base temp, the cassette folder and the state dir."""

from __future__ import annotations

import shutil
from pathlib import Path

from trust_project import SHIPPED, needs_cassettes

from standin import start_standin
from standin.plugin_env import plugin_environment
from standin.record_examples import offline_environment, run_main_job, standin_environment


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@needs_cassettes
def test_a_failed_rewrite_leaves_the_old_cassettes_and_says_where_the_partial_one_is(
    tmp_path: Path,
) -> None:
    cassettes = tmp_path / "cassettes"
    shutil.copytree(SHIPPED.parent.parent, cassettes)
    build_folder = cassettes / "examples" / "webserver" / "azure-arm"
    before = _snapshot(cassettes)
    with start_standin(fast=True) as standin:
        # No image resource group: the build fails after recording a good part of its traffic.
        env = {**offline_environment(), **plugin_environment(standin)}
        code, _, output = run_main_job(env, cassettes, "rewrite", f"--basetemp={tmp_path / 'a'}")
        assert code == 1, output
        partial = build_folder.parent / ".azure-arm.partial"
        assert f"the partial recording is in {partial}" in output
        assert (partial / "build.yaml").is_file()
        after = {k: v for k, v in _snapshot(cassettes).items() if ".partial" not in k}
        assert after == before
        # A successful recording then replaces the set and removes the partial folder.
        code, _, output = run_main_job(
            standin_environment(standin), cassettes, "rewrite", f"--basetemp={tmp_path / 'b'}"
        )
        assert code == 0, output
    assert not partial.exists()
    assert (build_folder / "build.yaml").read_bytes() != before[
        "examples/webserver/azure-arm/build.yaml"
    ]


@needs_cassettes
def test_a_replay_with_a_manifest_leaves_nothing_in_the_system_temp(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    shutil.copytree(SHIPPED.parent.parent, cassettes)
    system_temp = tmp_path / "system-temp"  # this run's own, so other runs cannot interfere
    system_temp.mkdir()
    env = {**offline_environment(), "TMPDIR": str(system_temp)}
    code, _, output = run_main_job(
        env, cassettes, "none", "-k", "build", f"--basetemp={tmp_path / 't'}"
    )
    assert code == 0, output
    assert list((tmp_path / "t").rglob("manifest.json")), "the manifest post-processor ran"
    assert list(system_temp.iterdir()) == []

"""--image-on-error=abort during a replay journals and keeps no cloud resource: the replay
created none. Local paths and processes are real, replay or not."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pytest_imagebuild.clock import REAL_CLOCK, VirtualClock
from pytest_imagebuild.errors import BuildError
from pytest_imagebuild.multistep import BuildContext, RunOptions, run_steps
from pytest_imagebuild.ui import BuildUI


class MakesAGroupThenFails:
    name = "StepCreateResourceGroup"

    def run(self, ctx: BuildContext) -> None:
        ctx.note_created("path", str(ctx.workdir / "key"))
        ctx.note_created("azure-resource-group", "pkr-rg-abc")
        raise BuildError("deployment failed")

    def cleanup(self, ctx: BuildContext) -> None:
        pass


def run_aborted(tmp_path: Path, clock) -> tuple[list[tuple[str, str]], str]:
    journaled: list[tuple[str, str]] = []
    out = io.StringIO()
    ctx = BuildContext(
        plan=None,  # type: ignore[arg-type]  # the steps here never read the plan
        ui=BuildUI("azure-arm", stream=out),
        workdir=tmp_path,
        on_error="abort",
        options=RunOptions(clock=clock),
    )
    ctx.journal = lambda kind, name: journaled.append((kind, name))
    with pytest.raises(BuildError):
        run_steps(ctx, [MakesAGroupThenFails()])
    return journaled, out.getvalue()


def test_abort_during_replay_journals_and_keeps_no_cloud_resource(tmp_path: Path) -> None:
    journaled, out = run_aborted(tmp_path, VirtualClock())
    assert journaled == [("path", str(tmp_path / "key"))]
    assert "pkr-rg-abc" not in out


def test_abort_of_a_live_build_journals_and_names_the_group(tmp_path: Path) -> None:
    journaled, out = run_aborted(tmp_path, REAL_CLOCK)
    assert ("azure-resource-group", "pkr-rg-abc") in journaled
    assert "pkr-rg-abc" in out


def test_a_replayed_launch_journals_only_what_is_real_on_this_machine() -> None:
    """Launchers journal through RunOptions: on replay the VM's resource group is a recording,
    and a crash must not leave the janitor looking for it; the local overlay is real."""
    for clock, expected in (
        (VirtualClock(), [("path", "/tmp/overlay.qcow2")]),
        (
            REAL_CLOCK,
            [("azure-resource-group", "imagebuild-launch-x"), ("path", "/tmp/overlay.qcow2")],
        ),
    ):
        journaled: list[tuple[str, str]] = []
        run = RunOptions(clock=clock, on_created=lambda *noted, to=journaled: to.append(noted))
        run.note_created("azure-resource-group", "imagebuild-launch-x")
        run.note_created("path", "/tmp/overlay.qcow2")
        assert journaled == expected

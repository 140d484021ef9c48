"""Helpers shared by the HCL2 tests: a BuildPlan reduced to what a build does with it.

The JSON and HCL2 front ends name paths differently (builders[0] vs source.T.N) and HCL2 keeps
real booleans and numbers where JSON templates write strings; Packer decodes both into the
same Go fields (weak decoding), so the comparison does the same.
"""

from __future__ import annotations

from typing import Any

from pytest_imagebuild.template.model import BuildPlan


def weak(value: Any) -> Any:
    """A config value as Packer's weak decoder sees it: scalars as their string form."""
    if isinstance(value, dict):
        return {str(k).lower(): weak(v) for k, v in value.items()}
    if isinstance(value, list):
        return [weak(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return None
    return str(value)


def _seconds(value: float | None) -> float | None:
    """Durations to the nanosecond: "600ns" and a bare 600 are the same Go duration."""
    return None if value is None else round(value, 9)


def plan_summary(plan: BuildPlan, with_name: bool = True) -> dict[str, Any]:
    """What a build runs: builder type and config, stages with their configs and timings."""
    summary: dict[str, Any] = {
        "type": plan.type,
        "config": weak(plan.config),
        "provisioners": [
            {
                "type": stage.type,
                "config": weak(stage.config),
                "pause_before": getattr(stage.spec, "pause_before", 0.0),
                "max_retries": getattr(stage.spec, "max_retries", 0),
                "timeout": _seconds(getattr(stage.spec, "timeout", None)),
            }
            for stage in plan.provisioners
        ],
        "post_processors": [
            [
                {
                    "type": stage.type,
                    "config": weak(stage.config),
                    "keep_input_artifact": getattr(stage.spec, "keep_input_artifact", None),
                }
                for stage in chain
            ]
            for chain in plan.post_processors
        ],
        "error_cleanup": (
            {"type": plan.error_cleanup.type, "config": weak(plan.error_cleanup.config)}
            if plan.error_cleanup
            else None
        ),
    }
    if with_name:
        summary["name"] = plan.name
    return summary

"""Builders: turn a BuildPlan into an Artifact through ordered steps with cleanups."""

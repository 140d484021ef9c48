"""Under pytest-xdist, builds are handed out first, so the slow work spreads over the workers.

xdist's group scheduling (our default, see plugin.py) hands each worker two work units at the
start, in collection order, and never takes them back. In collection order a template's
``::validate`` (milliseconds) precedes its ``::build[...]`` (minutes), so with four templates
and four workers two workers got two builds each and two workers only validate items: four
builds took as long as on two workers. Listing every build before everything else, in their
own order, gives each worker a build first. Without xdist the order is left as collected.
"""

from __future__ import annotations

import pytest

from .collect import BuildItem


def builds_first(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move build items to the front on xdist workers (all workers order alike)."""
    if not hasattr(config, "workerinput"):
        return
    items[:] = [i for i in items if isinstance(i, BuildItem)] + [
        i for i in items if not isinstance(i, BuildItem)
    ]

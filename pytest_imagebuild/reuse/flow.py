"""What the store does around a build when reuse is on: one build per key, reuse by key.

With --image-reuse: hold the key's lock (this machine, every process), ask the provider for
an image of this key (the qemu image cache; Azure: an image tagged imagebuild-key), use it
if there is one, else build and hand the artifact to the provider to keep. Without it: just
build, carrying the key when a later run may look for it (--image-keep).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..buildkey import short
from ..catalogue import catalogue, load
from ..multistep import Artifact
from ..template.model import BuildPlan
from ..ui import BuildUI
from .cache import ImageCache, age
from .registry import KeptThing
from .settings import ReuseSettings

KEY_DATA = "build_key"  # Artifact.data: the build key
REUSED_DATA = "reused"  # Artifact.data: "built 12 min ago" when reused


class Reuser(Protocol):
    """A provider's part (``BuilderType.reuse``): find, keep and remove images by key."""

    def find(self, plan: BuildPlan, key: str, lookup: Any) -> tuple[Artifact, float] | None: ...

    def keep(self, plan: BuildPlan, artifact: Artifact, key: str, ui: BuildUI) -> Artifact: ...

    def vm_alive(self, thing: KeptThing) -> bool: ...

    def destroy_vm(self, thing: KeptThing, settings: dict[str, str]) -> None: ...


def reuser_for(builder_type: str, cache: ImageCache) -> Reuser | None:
    entry = catalogue().builder_type(builder_type)
    if entry is None or not entry.reuse:
        return None
    return load(entry.reuse)(cache)


def cache_of(settings: ReuseSettings) -> ImageCache:
    return ImageCache(settings.cache_dir, settings.cache_size)


def build_or_reuse(
    plan: BuildPlan,
    key: str | None,
    settings: ReuseSettings,
    ui: BuildUI,
    build: Callable[[str], Artifact],
    lookup: Any = None,
) -> Artifact:
    """The artifact of this plan: reused when --image-reuse finds one of the same key."""
    reuser = reuser_for(plan.type, cache_of(settings)) if key else None
    if not (settings.reuse and key and reuser):
        artifact = build(key if key and settings.keys_builds else "")
        if key:
            artifact.data[KEY_DATA] = key
        return artifact
    with cache_of(settings).lock(key):
        found = reuser.find(plan, key, lookup)
        if found is not None:
            artifact, built = found
            artifact.data[KEY_DATA] = key
            artifact.data[REUSED_DATA] = f"built {age(built)}"
            ui.say(f"reusing {_label(artifact)} built {age(built)}, key {short(key)}")
            return artifact
        ui.say(f"no image with key {short(key)} to reuse: building")
        artifact = build(key)
        kept = reuser.keep(plan, artifact, key, ui)
        kept.data[KEY_DATA] = key
        return kept


def _label(artifact: Artifact) -> str:
    if artifact.files:
        return artifact.files[0].name
    return str(artifact.data.get("managed_image_name") or artifact.id)

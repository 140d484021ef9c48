"""``python -m pytest_imagebuild list`` and ``destroy NAME | --all``: cached images, kept VMs.

Generic: each kept VM is destroyed by the provider of its builder type (``BuilderType.reuse``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..buildkey import short
from ..catalogue import catalogue
from ..errors import ImagebuildError
from .cache import ImageCache, age
from .flow import reuser_for
from .registry import Registry
from .settings import DEFAULT_CACHE_SIZE, default_cache_root, parse_size


def _cache(args: argparse.Namespace) -> ImageCache:
    root = args.cache_dir or str(default_cache_root() / "images")
    return ImageCache(Path(root), parse_size(DEFAULT_CACHE_SIZE))


def list_kept(args: argparse.Namespace) -> int:
    now = time.time()
    cache, registry = _cache(args), Registry(_state(args))
    rows = 0
    for entry in cache.entries():
        rows += 1
        print(
            f"image  {entry.name}  key {short(entry.key)}  built {age(entry.built, now)}  "
            f"local: {entry.folder / str(entry.meta.get('file', ''))}"
        )
    for thing in registry.things():
        rows += 1
        reuser = reuser_for(thing.builder_type, cache)
        state = "" if reuser is None or reuser.vm_alive(thing) else "  (gone)"
        print(
            f"vm     {thing.name}  key {short(thing.key)}  kept {age(thing.created, now)}  "
            f"{thing.where}{state}"
        )
        for line in thing.reach:
            print(f"         {line}")
    if not rows:
        print("nothing cached or kept")
    return 0


def destroy(args: argparse.Namespace) -> int:
    cache, registry = _cache(args), Registry(_state(args))
    if not args.all and not args.names:
        raise ImagebuildError("destroy: name what to remove (see `list`), or pass --all")
    things = registry.things()
    entries = cache.entries()
    settings = catalogue().provider_settings(args)
    removed = 0
    for thing in things:
        if args.all or thing.name in args.names:
            reuser = reuser_for(thing.builder_type, cache)
            if reuser is not None:
                provider = catalogue().provider_of(thing.builder_type)
                reuser.destroy_vm(thing, settings.get(provider.name, {}) if provider else {})
            registry.remove(thing.name)
            print(f"destroyed VM {thing.name} ({thing.where})")
            removed += 1
    for entry in entries:
        if args.all or entry.name in args.names or entry.key in args.names:
            cache.remove(entry.key)
            print(f"removed cached image {entry.name} (key {short(entry.key)})")
            removed += 1
    unknown = set(args.names) - {t.name for t in things} - {e.name for e in entries}
    unknown -= {e.key for e in entries}
    if unknown:
        names = ", ".join(sorted(unknown))
        raise ImagebuildError(f"destroy: nothing cached or kept is named {names}")
    return 0 if removed or args.all else 1


def _state(args: argparse.Namespace) -> Path | None:
    return Path(args.state_dir) if args.state_dir else None


def add_commands(commands: argparse._SubParsersAction) -> None:
    for name, handler, text in (
        ("list", list_kept, "list cached images and kept VMs (--image-reuse, --image-keep)"),
        ("destroy", destroy, "remove cached images and kept VMs by name, or all of them"),
    ):
        parser = commands.add_parser(name, help=text, description=text)
        if name == "destroy":
            parser.add_argument("names", nargs="*", metavar="NAME")
            parser.add_argument("--all", action="store_true", help="remove everything listed")
        parser.add_argument("--cache-dir", default="", help="the image cache (image_cache_dir)")
        parser.add_argument("--state-dir", default="", help="where kept VMs are registered")
        parser.set_defaults(handler=handler)

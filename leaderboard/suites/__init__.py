"""Benchmark suites: `leaderboard.suites.get("synthetic-logic")`, `available()`.

Each suite is a YAML file in `definitions/`; generated suites are written once into
the cache (keyed by suite version, seed and size) and reused.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import threading
from pathlib import Path
from typing import Callable, Optional

from hub.registry import Registry
from leaderboard.suites.spec import Suite, SuiteError, Task, load_suite

DEFINITIONS = Path(__file__).parent / "definitions"

_SUITES: Registry[Path] = Registry("suite")
for _path in sorted(DEFINITIONS.glob("*.yaml")):
    _SUITES.add(_path.stem, _path)

# name → generate(out_dir, *, seed, size, categories, progress) writing one folder per category.
Generator = Callable[..., object]
GENERATORS: Registry[Generator] = Registry("generator")


@GENERATORS.register("synthetic-logic")
def _synthetic_logic(out_dir: Path, *, seed: int, size: int, categories: list[str], progress=None) -> object:
    from leaderboard.suites import synthetic_logic

    return synthetic_logic.generate(out_dir, seed=seed, size=size, scenarios=categories, progress=progress)


@GENERATORS.register("real-textures")
def _real_textures(out_dir: Path, *, seed: int, size: int, categories: list[str], progress=None) -> object:
    from leaderboard.suites import real_textures

    return real_textures.generate(out_dir, seed=seed, size=size, categories=categories, progress=progress)


def available() -> list[str]:
    return _SUITES.available()


def get(name: str) -> Suite:
    suite = load_suite(_SUITES.get(name))
    if suite.name != name:
        raise SuiteError(f"{_SUITES.get(name)}: file is named {name!r} but declares name {suite.name!r}")
    return suite


_lock = threading.Lock()


# The code behind each generator; its hash is part of the cache key, so editing a
# generator can never leave a stale cached dataset behind.
GENERATOR_SOURCES = {"synthetic-logic": "synthetic_logic", "real-textures": "real_textures.py"}


def generator_fingerprint(name: str) -> str:
    if name in GENERATOR_SOURCES:
        source = Path(__file__).parent / GENERATOR_SOURCES[name]
    else:  # a generator registered elsewhere: hash the file that defines it
        source = Path(inspect.getsourcefile(GENERATORS.get(name)))
    files = sorted(source.rglob("*.py")) if source.is_dir() else [source]
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.relative_to(source.parent).as_posix().encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:10]


def generated_root(suite: Suite, cache: Optional[Path] = None) -> Path:
    from leaderboard.examples import cache_dir

    base = cache or cache_dir() / "suites"
    return base / f"{suite.name}-v{suite.version}-seed{suite.seed}-{suite.size}-{generator_fingerprint(suite.generator)}"


def _written_before(suite: Suite, root: Path, category: str) -> bool:
    """Whether root/category already holds this suite's data, written by `make-suite` (its manifest says the
    same seed and size, and finished); it is then marked complete. A folder with anything else in it is not
    regenerated over: a dev copy made with another seed must not be replaced without a word."""
    folder = root / category
    if not folder.is_dir() or not any(folder.iterdir()):
        return False
    manifest = None
    for path in (folder / "MANIFEST.json", root / "MANIFEST.json"):
        try:
            m = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if path.parent == folder or category in (m.get("categories") or {}):
            manifest = m
            break
    if manifest is not None and manifest.get("complete") is False:
        return False  # a generator run that stopped half-way: written again
    if manifest is not None and manifest.get("seed") == suite.seed and manifest.get("size") == suite.size:
        (folder / ".complete").touch()
        return True
    found = "data this suite did not write" if manifest is None else (
        f"seed {manifest.get('seed')}, size {manifest.get('size')}")
    raise SuiteError(f"suite {suite.name!r} (seed {suite.seed}, size {suite.size}) would be generated into {folder}, "
                     f"which holds {found}; nothing was overwritten: choose another --data-root or remove that folder")


def materialise(suite: Suite, *, data_root: Optional[str | os.PathLike] = None, categories: Optional[list[str]] = None,
                progress=None) -> Path:
    """The folder holding the suite's categories: generated on demand, or the user's data root."""
    wanted = sorted(set(categories or [t.category for t in suite.tasks]))
    if suite.source == "generated":
        root = Path(data_root) if data_root else generated_root(suite)
        with _lock:
            missing = [c for c in wanted
                       if not (root / c / ".complete").exists() and not _written_before(suite, root, c)]
            if missing:
                GENERATORS.get(suite.generator)(root, seed=suite.seed, size=suite.size, categories=missing,
                                                progress=progress)
                for c in missing:
                    (root / c / ".complete").touch()
        return root
    if data_root is None:
        from leaderboard.suites.remote import fetch_hub_dataset

        fetched = fetch_hub_dataset(suite)
        if fetched is not None:
            return fetched
        raise SuiteError(f"suite {suite.name!r} needs --data-root DIR: {suite.where_to_get}")
    root = Path(data_root)
    if not root.is_dir():
        raise SuiteError(f"suite {suite.name!r}: data root {root} does not exist. {suite.where_to_get}")
    return root


__all__ = ["GENERATORS", "Suite", "SuiteError", "Task", "available", "get", "materialise"]

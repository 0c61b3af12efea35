"""Benchmark suites: `leaderboard.suites.get("synthetic-logic")`, `available()`.

Each suite is a YAML file in `definitions/`; generated suites are written once into
the cache (keyed by suite version, seed and size) and reused.
"""
from __future__ import annotations

import hashlib
import inspect
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


def materialise(suite: Suite, *, data_root: Optional[str | os.PathLike] = None, categories: Optional[list[str]] = None,
                progress=None) -> Path:
    """The folder holding the suite's categories: generated on demand, or the user's data root."""
    wanted = sorted(set(categories or [t.category for t in suite.tasks]))
    if suite.source == "generated":
        root = Path(data_root) if data_root else generated_root(suite)
        with _lock:
            missing = [c for c in wanted if not (root / c / ".complete").exists()]
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

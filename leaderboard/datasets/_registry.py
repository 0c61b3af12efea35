"""The layout registry: one entry per layout family, tried in priority order by `detect_layout`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from hub.registry import Registry
from leaderboard.datasets._files import subfolders
from leaderboard.datasets.base import Dataset, DatasetError


@dataclass(frozen=True)
class Layout:
    """How to recognise and read one layout; `needs` is what the error lists when nothing is recognised."""

    name: str
    needs: str
    priority: int  # lower is tried first, so specific layouts win over the catch-all folder layout
    detect: Callable[[Path, Optional[str]], bool]
    read: Callable[[Path, Optional[str], bool], Dataset]  # (root, category, validate)
    categories: Callable[[Path], list[str]]  # categories found under a dataset root


LAYOUTS: Registry[Layout] = Registry("layout")


def register_layout(layout: Layout) -> Layout:
    LAYOUTS.add(layout.name, layout)
    return layout


def by_priority() -> list[Layout]:
    return sorted((LAYOUTS.get(n) for n in LAYOUTS), key=lambda lay: (lay.priority, lay.name))


def category_dir(root: Path, category: Optional[str]) -> Optional[Path]:
    """The category folder: `root/category`, or `root` itself when no category is given or it is named so."""
    if category is None:
        return root
    if (root / category).is_dir():
        return root / category
    if root.name == category:
        return root
    return None


def missing_category(root: Path, category: str, present: list[str]) -> DatasetError:
    listed = ", ".join(present) if present else "none found"
    return DatasetError(f"{root}: no category {category!r}; categories present: {listed}")


def several_categories(root: Path, present: list[str]) -> DatasetError:
    return DatasetError(
        f"{root}: is a dataset root holding categories {', '.join(present)}; "
        "pass a category or point at one category folder"
    )


def register_category_layout(
    name: str, *, needs: str, priority: int, looks_like: Callable[[Path], bool]
) -> Callable[[Callable[[Path, bool], Dataset]], Callable[[Path, bool], Dataset]]:
    """Register a layout with one folder per category; the decorated function reads one category folder."""

    def decorator(read_category: Callable[[Path, bool], Dataset]) -> Callable[[Path, bool], Dataset]:
        def categories(root: Path) -> list[str]:
            return [d.name for d in subfolders(root) if looks_like(d)]

        def detect(root: Path, category: Optional[str]) -> bool:
            folder = category_dir(root, category)
            return folder is not None and looks_like(folder)

        def read(root: Path, category: Optional[str], validate: bool) -> Dataset:
            folder = category_dir(root, category)
            if folder is None:
                raise missing_category(root, category or "", categories(root))
            if category is None and not looks_like(root) and categories(root):
                raise several_categories(root, categories(root))
            return read_category(folder, validate)

        register_layout(Layout(name, needs, priority, detect, read, categories))
        return read_category

    return decorator

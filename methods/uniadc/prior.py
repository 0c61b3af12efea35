"""The anomaly prior of UniADC (paper Table S1) as YAML a user writes by hand.

Each anomaly category names a free-text `description` (the inpainting prompt), one or more
mask `shape`s and `size`s. A field left out, or written `unknown`, lets mask generation
draw from every family or size, as the paper does when a prior is unavailable.

    name: real-textures
    categories:
      scratch:
        description: Thin bright scratches on the surface
        shape: Line
        size: Small
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

SHAPES = (
    "Rectangle", "Line", "Polygon", "Ellipse", "Hollow Ellipse", "Random Brush", "Perlin Noise", "Foreground Mask",
)
SIZES = ("Small", "Medium", "Large")
UNKNOWN = "unknown"


class PriorError(ValueError):
    """A prior file that cannot be used; the message names the field and, where known, its line."""


def _canonical(value: Any, allowed: tuple[str, ...], what: str) -> list[str]:
    """Accept 'Hollow Ellipse', 'hollow_ellipse', a list, or 'Line, Ellipse'; refuse typos with a hint."""
    if value is None:
        return [UNKNOWN]
    items = value if isinstance(value, list) else str(value).split(",")
    by_key = {a.lower().replace(" ", ""): a for a in allowed}
    # The paper's table writes "Foreground" for the foreground mask.
    if what == "shape":
        by_key["foreground"] = "Foreground Mask"
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"{what} must be a name or a list of names, got {item!r}")
        key = item.strip().lower().replace("_", "").replace("-", "").replace(" ", "")
        if key == UNKNOWN:
            out.append(UNKNOWN)
        elif key in by_key:
            out.append(by_key[key])
        else:
            close = difflib.get_close_matches(item.strip().title(), list(allowed), n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown {what} {item.strip()!r}.{hint} Allowed: {', '.join(allowed)}, {UNKNOWN}")
    if UNKNOWN in out and len(out) > 1:
        raise ValueError(f"{what} 'unknown' cannot be combined with named {what}s")
    return list(dict.fromkeys(out))


class Category(BaseModel):
    """One anomaly category: the prompt and the shape/size constraints of its masks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str
    shape: list[str] = Field(default_factory=lambda: [UNKNOWN])
    size: list[str] = Field(default_factory=lambda: [UNKNOWN])

    @field_validator("description")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("description is empty; it is the prompt that says what the defect looks like")
        return value

    @field_validator("shape", mode="before")
    @classmethod
    def _shape(cls, value: Any) -> list[str]:
        return _canonical(value, SHAPES, "shape")

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> list[str]:
        return _canonical(value, SIZES, "size")

    def shapes(self) -> list[str]:
        """The families mask generation may draw from."""
        return list(SHAPES) if self.shape == [UNKNOWN] else list(self.shape)

    def sizes(self) -> list[str]:
        return list(SIZES) if self.size == [UNKNOWN] else list(self.size)


class Prior(BaseModel):
    """A named set of anomaly categories for one object or texture."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    categories: dict[str, Category]

    @field_validator("categories")
    @classmethod
    def _some(cls, value: dict[str, Category]) -> dict[str, Category]:
        if not value:
            raise ValueError("a prior needs at least one category")
        for key in value:
            if not key.strip() or "/" in key or "\\" in key:
                raise ValueError(f"category name {key!r} must be non-empty and contain no path separator")
        return value


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at `loc`, or of its nearest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        for k, v in node.value:
            if k.value == str(key):
                # An unknown key is reported at the key itself; a bad value at its value.
                line = k.start_mark.line + 1
                node = v
                line = v.start_mark.line + 1 if not isinstance(v, yaml.MappingNode) else line
                break
        else:
            break
    return line


def parse_prior(text: str, source: str = "<prior>") -> Prior:
    """Validate prior YAML, turning pydantic's errors into messages with line numbers."""
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise PriorError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PriorError(f"{source}: expected a mapping with 'name' and 'categories', got {type(data).__name__}")
    try:
        return Prior.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _line_of(root, loc)
            where = ".".join(str(p) for p in loc) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                allowed = Category.model_fields if len(loc) > 2 else Prior.model_fields
                msg = f"unknown field {loc[-1]!r}.{_hint(str(loc[-1]), list(allowed))} Allowed: {', '.join(allowed)}"
            problems.append(f"{source}{f':{line}' if line else ''}: {where}: {msg}")
        raise PriorError("\n".join(problems)) from None


def _hint(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def load_prior(path: str | Path) -> Prior:
    path = Path(path)
    if not path.is_file():
        raise PriorError(f"{path}: no such prior file")
    return parse_prior(path.read_text(encoding="utf-8"), str(path))


def dump_prior(prior: Prior) -> str:
    """YAML in the hand-written form: one name as a string, several as a list, 'unknown' left out."""
    cats: dict[str, dict[str, Any]] = {}
    for key, cat in prior.categories.items():
        entry: dict[str, Any] = {"description": cat.description}
        for field in ("shape", "size"):
            values = getattr(cat, field)
            if values != [UNKNOWN]:
                entry[field] = values[0] if len(values) == 1 else list(values)
        cats[key] = entry
    return yaml.safe_dump({"name": prior.name, "categories": cats}, sort_keys=False, allow_unicode=True, width=100)

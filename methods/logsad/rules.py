"""The rule file (match-of-thought): interests and rules as YAML, parsed into pydantic models.

Parsing is `yaml.compose` (safe: no tags, no code) plus pydantic validation; every error
names the line, the field and, for a typo, the nearest valid name. `dump` writes what
`load` reads back identically.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

UNKNOWN = "unknown"  # the pseudo-interest of components that match no interest
FORMAT_VERSION = 1


class RuleFileError(ValueError):
    """A rule file that cannot be parsed or validated; the message names line and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Interest(_Strict):
    """A named kind of component: a text description (full tier) and a prototype (embedded)."""

    name: str
    description: str = ""  # what the full tier's CLIP text encoder reads
    colour_lab: tuple[float, float, float]  # mean colour, illumination-normalised CIE Lab
    area: float = Field(ge=0)  # fraction of the image
    elongation: float = Field(ge=1)  # length / width
    extent: float = Field(ge=0, le=1)  # area / bounding-rectangle area: 1 square, 0.785 disc
    solidity: float = Field(ge=0, le=1)  # area / convex-hull area
    radius: float = Field(gt=0)  # a component farther than this from the prototype is "unknown"
    any_colour: bool = False  # matched by size and shape alone (blocks of random colours)


def _repeated(names: list[str]) -> list[str]:
    return sorted({n for n in names if names.count(n) > 1})


def _range(lo_hi: tuple[float, float], what: str) -> tuple[float, float]:
    if lo_hi[0] > lo_hi[1]:
        raise ValueError(f"{what} range [{lo_hi[0]}, {lo_hi[1]}] is empty (low > high)")
    return lo_hi


class CountRule(_Strict):
    kind: Literal["count"] = "count"
    interest: str
    range: tuple[int, int]
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> "CountRule":
        _range(self.range, "count")
        return self


class RatioRule(_Strict):
    """Total `measure` of one interest over another's (length of rope / length of stick)."""

    kind: Literal["ratio"] = "ratio"
    numerator: str
    denominator: str
    measure: Literal["area", "length"] = "length"
    range: tuple[float, float]
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> "RatioRule":
        _range(self.range, "ratio")
        return self


class SizeRule(_Strict):
    """Every component of the interest has its `measure` in range (a long stick stays long)."""

    kind: Literal["size"] = "size"
    interest: str
    measure: Literal["area", "length"] = "length"
    range: tuple[float, float]
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> "SizeRule":
        _range(self.range, "size")
        return self


class PairingRule(_Strict):
    """If `if_present` is in the image then `then` holds: is present too, or holds it (inside)."""

    kind: Literal["pairing"] = "pairing"
    if_present: str
    then: str
    property: Literal["present", "inside"] = "present"
    note: str = ""


class OrderRule(_Strict):
    """The interests' components appear in this order along x (left→right) or y (top→bottom)."""

    kind: Literal["order"] = "order"
    axis: Literal["x", "y"] = "x"
    sequence: list[str] = Field(min_length=2)
    note: str = ""


class RegionRule(_Strict):
    """Every component of the interest has its centre in the box (fractions of width and height)."""

    kind: Literal["region"] = "region"
    interest: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> "RegionRule":
        x0, y0, x1, y1 = self.box
        if x0 > x1 or y0 > y1:
            raise ValueError(f"region box {list(self.box)} is empty (x0 > x1 or y0 > y1)")
        return self


GLYPH_LEVELS = ".,:;-=+*#@"  # a glyph's characters from paper (.) to ink (@)
GLYPH_SIZE = (40, 10)  # characters along and rows across a line of print


class Print(_Strict):
    """A word printed on labels, as its ink looks along the line of text: either tier reads a label
    by matching its print to these glyphs (`prints.read`)."""

    name: str
    glyph: list[str]  # GLYPH_SIZE[1] rows of GLYPH_SIZE[0] characters of GLYPH_LEVELS
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> "Print":
        cols, rows = GLYPH_SIZE
        if len(self.glyph) != rows or any(len(r) != cols for r in self.glyph):
            raise ValueError(f"print {self.name!r}: glyph must be {rows} rows of {cols} characters, got "
                             f"{len(self.glyph)} rows of {sorted({len(r) for r in self.glyph})} characters")
        bad = sorted({ch for r in self.glyph for ch in r} - set(GLYPH_LEVELS))
        if bad:
            raise ValueError(f"print {self.name!r}: glyph characters must be among {GLYPH_LEVELS!r}, got {bad}")
        return self


class LabelPair(_Strict):
    print: str  # a name in the file's prints
    colour: str  # the colour's name, for people
    colour_lab: tuple[float, float, float]  # what the embedded tier compares (illumination-normalised Lab)


class LabelRule(_Strict):
    """The interest has the colour its label's print names (a rope and the word on its card, a juice
    and the fruit on its bottle): each pair says which colour goes with which print."""

    kind: Literal["label"] = "label"
    interest: str
    pairs: list[LabelPair] = Field(min_length=2)
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> "LabelRule":
        dupes = _repeated([p.print for p in self.pairs])
        if dupes:
            raise ValueError(f"label rule pairs name print {', '.join(map(repr, dupes))} more than once")
        return self


Rule = Annotated[Union[CountRule, RatioRule, SizeRule, PairingRule, OrderRule, RegionRule, LabelRule],
                 Field(discriminator="kind")]
RULE_KINDS = ("count", "ratio", "size", "pairing", "order", "region", "label")


def rule_interests(rule: Any) -> list[str]:
    if isinstance(rule, (CountRule, SizeRule, RegionRule, LabelRule)):
        return [rule.interest]
    if isinstance(rule, RatioRule):
        return [rule.numerator, rule.denominator]
    if isinstance(rule, PairingRule):
        return [rule.if_present, rule.then]
    return list(rule.sequence)


class RuleFile(_Strict):
    version: int = FORMAT_VERSION
    category: str = ""
    interests: list[Interest] = Field(default_factory=list)
    prints: list[Print] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> "RuleFile":
        names = [i.name for i in self.interests]
        dupes = _repeated(names)
        if dupes:
            raise ValueError(f"interest names must be unique; repeated: {', '.join(dupes)}")
        if UNKNOWN in names:
            raise ValueError(f"{UNKNOWN!r} is reserved for components that match no interest")
        known = names + [UNKNOWN]
        for i, rule in enumerate(self.rules):
            for name in rule_interests(rule):
                if name not in known:
                    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
                    hint = f" Did you mean {close[0]!r}?" if close else ""
                    raise ValueError(f"rules[{i}] ({rule.kind}) names unknown interest {name!r}.{hint} "
                                     f"Interests: {', '.join(known)}")
        printed = [p.name for p in self.prints]
        if _repeated(printed):
            raise ValueError(f"print names must be unique; repeated: {', '.join(_repeated(printed))}")
        for i, rule in enumerate(self.rules):
            for pair in getattr(rule, "pairs", []):
                if pair.print not in printed:
                    close = difflib.get_close_matches(pair.print, printed, n=1, cutoff=0.5)
                    hint = f" Did you mean {close[0]!r}?" if close else ""
                    raise ValueError(f"rules[{i}] (label) names unknown print {pair.print!r}.{hint} "
                                     f"Prints: {', '.join(printed) or 'none'}")
        return self

    def interest_names(self) -> list[str]:
        return [i.name for i in self.interests]


# --- parsing -------------------------------------------------------------------------------

_MODELS = (Interest, Print, LabelPair, CountRule, RatioRule, SizeRule, PairingRule, OrderRule, RegionRule, LabelRule,
           RuleFile)
_ALL_FIELDS = sorted({f for m in _MODELS for f in m.model_fields})


def loads(text: str, source: str = "<rules>") -> RuleFile:
    """Parse YAML text into a RuleFile; raise RuleFileError naming line, field and a suggestion."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = getattr(exc, "problem", None) or str(exc)
        raise RuleFileError(f"{source}: YAML syntax error at {where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RuleFileError(f"{source}: line 1: expected a mapping with 'interests' and 'rules', "
                            f"got {type(data).__name__}")
    try:
        return RuleFile.model_validate(data)
    except pydantic.ValidationError as exc:
        raise RuleFileError(f"{source}: " + "; ".join(_describe(err, node) for err in exc.errors())) from None


def load(path: str | Path) -> RuleFile:
    path = Path(path)
    if not path.is_file():
        raise RuleFileError(f"{path}: no such rule file")
    return loads(path.read_text(), str(path))


def dumps(rules: RuleFile) -> str:
    data = rules.model_dump(mode="json")
    for rule in data["rules"]:  # drop empty notes: the file is for people
        if not rule.get("note"):
            rule.pop("note", None)
    for item in data["prints"]:
        if not item.get("note"):
            item.pop("note", None)
        item["glyph"] = _Rows(_Quoted(row) for row in item["glyph"])
    if not data["prints"]:
        data.pop("prints")
    for interest in data["interests"]:
        if not interest.get("description"):
            interest.pop("description", None)
        if not interest.get("any_colour"):
            interest.pop("any_colour", None)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=110, allow_unicode=True)


class _Rows(list):
    """A glyph: written one row per line, so the word can be seen in the file."""


class _Quoted(str):
    """A glyph row, always quoted so that the rows line up."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Rows, lambda d, rows: d.represent_sequence("tag:yaml.org,2002:seq", rows, flow_style=False))
_Dumper.add_representer(_Quoted, lambda d, row: d.represent_scalar("tag:yaml.org,2002:str", row, style="'"))


def dump(rules: RuleFile, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_header(rules) + dumps(rules))
    return path


def _header(rules: RuleFile) -> str:
    return ("# LogSAD rule file: interests (named components) and the rules they obey on normal images.\n"
            "# Edit freely; the format is documented in methods/logsad/README.md.\n")


def _describe(err: dict[str, Any], root: yaml.Node | None) -> str:
    loc = [p for p in err["loc"]]
    pointed = re.search(r"rules\[(\d+)\]", err["msg"]) if not loc else None
    if pointed:  # a cross-reference error raised on the whole file: point at the rule
        loc = ["rules", int(pointed.group(1))]
    node, path = _walk(root, loc)
    line = f"line {node.start_mark.line + 1}" if node is not None else "line ?"
    field = ".".join(str(p) for p in path) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        bad = str(loc[-1])
        close = difflib.get_close_matches(bad, _ALL_FIELDS, n=1, cutoff=0.6)
        msg = f"unknown field {bad!r}" + (f"; did you mean {close[0]!r}?" if close else "")
    elif err["type"] == "union_tag_invalid":
        tag = str(err.get("input", {}).get("kind") if isinstance(err.get("input"), dict) else "")
        close = difflib.get_close_matches(tag, list(RULE_KINDS), n=1, cutoff=0.5)
        msg = f"unknown rule kind {tag!r}" + (f"; did you mean {close[0]!r}?" if close else "") + \
              f" (kinds: {', '.join(RULE_KINDS)})"
    return f"{line}: {field}: {msg}"


def _walk(node: yaml.Node | None, loc: list[Any]) -> tuple[yaml.Node | None, list[Any]]:
    """Follow a pydantic error location through the YAML node tree; the deepest node found."""
    path: list[Any] = []
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    node = key if part == loc[-1] else value
                    path.append(part)
                    break
            # a discriminator tag ('count') is in the location but not in the file
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            path.append(part)
    return node, path

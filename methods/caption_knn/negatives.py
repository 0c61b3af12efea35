"""Contradicting captions by replacement only (VID-AD §4.2): same words, same length, one rule broken.

Each negative swaps one attribute of its positive (a count, a colour, a shape, a region,
a relative length, or two items of a left-to-right order) and never inserts or deletes a
word, so the encoder cannot tell positives from negatives by their length or format.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

from methods.caption_knn.colour_names import NAMES as COLOURS

EDITS = ("count", "colour", "shape", "region", "length", "order")
GENERIC_SHAPES = ("bar", "strand", "oval", "oblong", "round", "star", "triangle", "square", "pentagon", "hexagon",
                  "polygon", "ring", "holed-polygon")
REGIONS = ("left", "middle", "right", "top", "bottom", "upper", "lower", "far-left", "far-right", "outside", "table",
           "top-left", "top-right", "bottom-left", "bottom-right", "top-middle", "middle-left", "middle-right",
           "bottom-middle", "middle-middle")
_TOKEN = re.compile(r"^(?P<word>.*?)(?P<punct>[.,:;]*)$", re.S)


def _split(token: str) -> tuple[str, str]:
    m = _TOKEN.match(token)
    return m.group("word"), m.group("punct")


def _is_int(word: str) -> bool:
    return word.isdigit()


def _is_length(word: str) -> bool:
    return bool(re.fullmatch(r"\d\.\d", word))


def candidates(tokens: Sequence[str], shapes: Sequence[str]) -> dict[str, list[int]]:
    """Token positions each kind of edit may change."""
    out: dict[str, list[int]] = {e: [] for e in EDITS}
    shape_set = set(shapes) | set(GENERIC_SHAPES)
    order_start = None
    for i, tok in enumerate(tokens):
        word, punct = _split(tok)
        low = word.lower()
        if _is_int(word):
            out["count"].append(i)
        elif _is_length(word):
            out["length"].append(i)
        elif low in COLOURS:
            out["colour"].append(i)
        elif low in shape_set:
            out["shape"].append(i)
        elif punct == ":" and low in REGIONS and not (i >= 1 and tokens[i - 1].lower() == "to"):
            out["region"].append(i)
        if low == "right" and i >= 2 and tokens[i - 2].lower() == "left" and tokens[i - 1].lower() == "to":
            order_start = i + 1
    if order_start is not None:  # items of the order line: "<colour> <shape>," pairs up to the full stop
        items, i = [], order_start
        while i + 1 < len(tokens):
            items.append(i)
            if tokens[i + 1].endswith("."):
                break
            i += 2
        if len(items) >= 2:
            out["order"] = items
    return out


def contradict(caption: str, rng: np.random.Generator, shapes: Sequence[str] = (),
               forbidden: Iterable[str] = (), tries: int = 50) -> str:
    """One negative for `caption`: a replacement-only edit of one (sometimes two) attributes.

    `forbidden` holds the normal captions, which a negative must not reproduce. Raises
    ValueError when the caption has nothing to contradict.
    """
    parts = re.split(r"(\s+)", caption)
    tokens, seps = parts[0::2], parts[1::2]
    where = candidates(tokens, shapes)
    kinds = [k for k, v in where.items() if v and (k != "order" or len(v) >= 2)]
    if not kinds:
        raise ValueError(f"nothing to contradict in caption {caption[:80]!r}")
    shape_pool = list(dict.fromkeys(list(shapes) + list(GENERIC_SHAPES)))
    forbidden = set(forbidden) | {caption}
    for _ in range(tries):
        out = list(tokens)
        n_edits = 1 if rng.random() < 0.7 or len(kinds) < 2 else 2
        for kind in rng.choice(kinds, size=n_edits, replace=False):  # two edits never undo each other
            _apply(out, str(kind), where[str(kind)], rng, shape_pool)
        text = "".join(t + s for t, s in zip(out, seps + [""]))
        if text not in forbidden:
            return text
    raise ValueError(f"could not contradict caption {caption[:80]!r} without repeating a normal one")


def _replace(tokens: list[str], i: int, word: str) -> None:
    _, punct = _split(tokens[i])
    tokens[i] = word + punct


def _other(rng: np.random.Generator, pool: Sequence[str], current: str) -> str:
    options = [p for p in pool if p != current]
    return options[int(rng.integers(len(options)))]


def _apply(tokens: list[str], kind: str, positions: list[int], rng: np.random.Generator, shapes: list[str]) -> None:
    if kind == "order":
        a, b = rng.choice(len(positions), size=2, replace=False)
        i, j = positions[a], positions[b]
        for off in (0, 1):
            wi, pi = _split(tokens[i + off])
            wj, pj = _split(tokens[j + off])
            tokens[i + off], tokens[j + off] = wj + pi, wi + pj
        return
    i = positions[int(rng.integers(len(positions)))]
    word, _ = _split(tokens[i])
    if kind == "count":
        n = int(word)
        _replace(tokens, i, str(_other(rng, [str(v) for v in range(max(0, n - 2), n + 3)], str(n))))
    elif kind == "length":
        v = float(word)
        far = [f"{x / 10:.1f}" for x in range(1, 11) if abs(x / 10 - v) >= 0.3 - 1e-9]
        _replace(tokens, i, far[int(rng.integers(len(far)))])
    elif kind == "colour":
        _replace(tokens, i, _other(rng, COLOURS, word.lower()))
    elif kind == "shape":
        _replace(tokens, i, _other(rng, shapes, word.lower()))
    elif kind == "region":
        _replace(tokens, i, _other(rng, REGIONS, word.lower()))

"""Text-guided semantic check: component rules written as sentences, compared in a text encoder's space.

Our reading of the paper's module (see README): the normals' component attributes that never
vary become reference sentences ("there are three orange objects", "the red region is in the
middle left"); a test image's same attributes are written the same way, and each broken rule adds
1 − cos(reference, observed) in the text encoder's embedding space. Equal sentences score 0.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable, Optional

import numpy as np

from methods.uniad.components import FEATURES

_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_COUNT, _AREA, _CX, _CY, _MAX, _MIN = (FEATURES.index(f) for f in ("count", "area", "cx", "cy", "max_blob", "min_blob"))


@dataclass(frozen=True)
class Rule:
    cluster: int
    attribute: str  # "count", "place", "largest", "smallest"
    value: str  # the attribute's value on the normals, as it appears in the sentence
    reference: str  # the sentence the normals satisfy
    support: float  # fraction of held-out normals that satisfy it


def _region(x: float, y: float) -> str:
    col = "left" if x < 1 / 3 else "right" if x > 2 / 3 else "centre"
    row = "top" if y < 1 / 3 else "bottom" if y > 2 / 3 else "middle"
    return f"{row} {col}"


def _size_word(value: float, typical: float) -> str:
    if typical <= 0:
        return "absent" if value <= 0 else "larger than usual"
    ratio = value / typical
    return "smaller than usual" if ratio < 0.7 else "larger than usual" if ratio > 1.4 else "usual in size"


def attribute_values(desc: np.ndarray, names: list[str], typical: np.ndarray) -> dict[tuple[int, str], str]:
    """Every (cluster, attribute) of one (K, F) descriptor as the words a sentence would use."""
    out = {}
    for k in range(desc.shape[0]):
        n = int(desc[k, _COUNT])
        out[(k, "count")] = _NUMBERS[n] if n < len(_NUMBERS) else str(n)
        out[(k, "place")] = _region(desc[k, _CX], desc[k, _CY]) if desc[k, _AREA] > 0 else "nowhere"
        out[(k, "largest")] = _size_word(desc[k, _MAX], typical[k, 0])
        out[(k, "smallest")] = _size_word(desc[k, _MIN], typical[k, 1])
    return out


def sentence(name: str, attribute: str, value: str) -> str:
    if attribute == "count":
        return f"there {'is' if value == 'one' else 'are'} {value} {name} object{'' if value == 'one' else 's'}"
    if attribute == "place":
        return f"the {name} region is {'nowhere' if value == 'nowhere' else 'in the ' + value}"
    return f"the {attribute} {name} object is {value}"


def typical_sizes(descs: np.ndarray) -> np.ndarray:
    """(K, 2) median largest / smallest blob area of each cluster over the normals."""
    return np.median(descs[:, :, [_MAX, _MIN]], axis=0)


def mine_rules(train: np.ndarray, val: np.ndarray, names: list[str], typical: np.ndarray,
               min_train: float = 0.9, min_val: float = 0.8) -> list[Rule]:
    """Attributes whose commonest value holds on ≥ min_train of the fit and ≥ min_val of the held-out normals."""
    train_vals = [attribute_values(d, names, typical) for d in train]
    val_vals = [attribute_values(d, names, typical) for d in val]
    rules = []
    for key in train_vals[0]:
        words = [v[key] for v in train_vals]
        uniq, cnt = np.unique(words, return_counts=True)
        mode, freq = str(uniq[cnt.argmax()]), cnt.max() / len(words)
        support = float(np.mean([v[key] == mode for v in val_vals]))
        if freq >= min_train and support >= min_val:
            k, attr = key
            rules.append(Rule(k, attr, mode, sentence(names[k], attr, mode), support))
    return rules


class TextChecker:
    """Scores a descriptor against the rules; sentence embeddings are cached by string."""

    def __init__(self, rules: list[Rule], names: list[str], typical: np.ndarray,
                 encode: Callable[[list[str]], np.ndarray]):
        self.rules, self.names, self.typical, self._encode = rules, names, typical, encode
        self._cache: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        new = sorted({t for t in texts if t not in self._cache})
        if new:
            for t, e in zip(new, self._encode(new)):
                self._cache[t] = e / max(float(np.linalg.norm(e)), 1e-8)
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1), np.float32)

    def check(self, desc: np.ndarray) -> tuple[float, Optional[dict[str, str]]]:
        """(score, worst violated rule or None). Score = sum over broken rules of 1 − cos(reference, observed)."""
        if not self.rules:
            return 0.0, None
        values = attribute_values(desc, self.names, self.typical)
        observed = [sentence(self.names[r.cluster], r.attribute, values[(r.cluster, r.attribute)]) for r in self.rules]
        broken = [i for i, (r, o) in enumerate(zip(self.rules, observed)) if o != r.reference]
        if not broken:
            return 0.0, None
        ref = self.embed([self.rules[i].reference for i in broken])
        obs = self.embed([observed[i] for i in broken])
        gaps = 1.0 - (ref * obs).sum(1)
        worst = int(gaps.argmax())
        i = broken[worst]
        return float(gaps.sum()), {"expected": self.rules[i].reference, "found": observed[i]}


def rules_to_json(rules: list[Rule]) -> list[dict]:
    return [asdict(r) for r in rules]


def rules_from_json(items: list[dict]) -> list[Rule]:
    return [Rule(**r) for r in items]

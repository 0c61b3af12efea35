"""Detectors behind one small API: `methods.create(name, **config)`.

Each method lives in its own folder and registers itself with `@register(name)`;
this file imports each explicitly so the registry is complete after `import methods`.
"""
from __future__ import annotations

from typing import Any

from hub.registry import Registry, UnknownNameError
from methods.base import AnomalySample, ConfigError, Method, Prediction, Progress

_REGISTRY: Registry[type[Method]] = Registry("method")


def register(name: str):
    def decorator(cls: type[Method]) -> type[Method]:
        cls.name = name
        _REGISTRY.add(name, cls)
        return cls

    return decorator


def get(name: str) -> type[Method]:
    return _REGISTRY.get(name)


def available() -> list[str]:
    return _REGISTRY.available()


def create(name: str, *, tier: str | None = None, device: str | None = None, **config: Any) -> Method:
    """Build a registered method; unknown names and config keys raise with suggestions."""
    return get(name)(dict(config), tier=tier, device=device)


def load(directory: str) -> Method:
    return Method.load(directory)


# Registration side effects: one line per method package.
from methods import caption_knn  # noqa: E402,F401
from methods import logsad  # noqa: E402,F401
from methods import patchcore  # noqa: E402,F401
from methods import reference  # noqa: E402,F401
from methods import uniad  # noqa: E402,F401
from methods import uniadc  # noqa: E402,F401

__all__ = [
    "AnomalySample", "ConfigError", "Method", "Prediction", "Progress", "UnknownNameError",
    "available", "create", "get", "load", "register",
]

"""The metric registry lives apart from `__init__` so each metric module can decorate itself."""
from __future__ import annotations

from typing import Callable

from hub.registry import Registry

METRICS: Registry[Callable[..., float]] = Registry("metric")

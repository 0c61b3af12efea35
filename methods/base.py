"""The one result type and the one method protocol every detector implements."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from abc import ABC, abstractmethod
from typing import Any, Callable, ClassVar, Iterable, Optional, Sequence

import numpy as np
import pydantic

from hub.images import ImageLike, load_mask, to_rgb_array
from hub.registry import suggest

# progress(fraction_done in [0, 1], description). The CLI adapts tqdm, the app gr.Progress.
Progress = Callable[[float, str], None]

FORMAT_VERSION = 1


class ConfigError(ValueError):
    """A method config that names an unknown key or holds a value of the wrong type."""


@dataclass
class Prediction:
    score: float  # higher is more anomalous; not bounded unless the method says so
    anomaly_map: np.ndarray  # (H, W) float32 at the input image's resolution
    class_map: Optional[np.ndarray] = None  # (H, W) int32 index into class_names, 0 = normal
    class_name: Optional[str] = None
    explanation: str = ""
    details: dict[str, Any] = field(default_factory=dict)  # per-detector scores etc., JSON-able


@dataclass
class AnomalySample:
    """A real anomalous image for few-shot methods: the image, its mask and its category."""

    image: np.ndarray
    mask: np.ndarray
    category: str = "anomaly"

    def __post_init__(self) -> None:
        self.image = to_rgb_array(self.image)
        self.mask = load_mask(self.mask) > 0
        if self.mask.shape != self.image.shape[:2]:
            raise ValueError(
                f"anomaly sample {self.category!r}: mask is {self.mask.shape[1]}×{self.mask.shape[0]} "
                f"but its image is {self.image.shape[1]}×{self.image.shape[0]}"
            )
        if not self.mask.any():
            raise ValueError(f"anomaly sample {self.category!r}: mask is empty")


def validate_config(method: str, config_cls: type, values: dict[str, Any]) -> Any:
    """Build a config dataclass from plain values, naming any unknown key and type error."""
    names = [f.name for f in dataclasses.fields(config_cls)]
    for key in values:
        if key not in names:
            raise ConfigError(
                f"{method}: unknown config key {key!r}.{suggest(key, names)} Valid keys: {', '.join(names)}"
            )
    try:
        return pydantic.TypeAdapter(config_cls).validate_python(values)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{method}: invalid config: {problems}") from None


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class Method(ABC):
    """Fit on normal images, predict on any images. Subclasses set `name` and `Config`.

    Subclasses implement `_fit(arrays, anomalies, progress)`, `_predict(arrays)`,
    `_state() -> (tensors, meta)` and `_set_state(tensors, meta)`; this class does
    input conversion, config validation and safetensors persistence.
    """

    name: ClassVar[str] = ""
    Config: ClassVar[type]

    def __init__(self, config: Any = None, *, tier: str | None = None, device: str | None = None):
        from hub import resolve_tier

        if config is None:
            config = self.Config()
        elif isinstance(config, dict):
            config = validate_config(self.name, self.Config, config)
        self.config = config
        self.tier = resolve_tier(tier)
        self.device = device or default_device()
        self.fitted = False

    # public API -----------------------------------------------------------------
    def fit(
        self,
        normal_images: Iterable[ImageLike],
        *,
        anomalies: Sequence[AnomalySample] | None = None,
        progress: Progress | None = None,
    ) -> "Method":
        arrays = [to_rgb_array(img) for img in normal_images]
        if not arrays:
            raise ValueError(f"{self.name}: fit needs at least one normal image")
        self._fit(arrays, list(anomalies or []), progress or _no_progress)
        self.fitted = True
        return self

    def predict(self, images: Iterable[ImageLike] | ImageLike) -> list[Prediction]:
        if not self.fitted:
            raise RuntimeError(f"{self.name}: call fit(normal_images) or load(dir) before predict")
        if isinstance(images, (str, bytes, np.ndarray)) or not isinstance(images, Iterable):
            images = [images]
        arrays = [to_rgb_array(img) for img in images]
        return self._predict(arrays)

    def config_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self.config)

    def save(self, directory: str | Path) -> Path:
        from safetensors.numpy import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors, meta = self._state()
        tensors = {k: np.ascontiguousarray(_to_numpy(v)) for k, v in tensors.items()}
        save_file(tensors, str(directory / "state.safetensors"))
        header = {
            "format_version": FORMAT_VERSION,
            "method": self.name,
            "tier": self.tier,
            "config": self.config_dict(),
            "meta": meta,
        }
        (directory / "method.json").write_text(json.dumps(header, indent=2))
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, device: str | None = None) -> "Method":
        from safetensors.numpy import load_file

        from methods import get

        directory = Path(directory)
        header_path = directory / "method.json"
        if not header_path.is_file():
            raise FileNotFoundError(f"{directory}: not a saved method (no method.json)")
        header = json.loads(header_path.read_text())
        if header.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{directory}: saved with format {header.get('format_version')}, expected {FORMAT_VERSION}")
        method_cls = get(header["method"]) if cls is Method else cls
        if method_cls.name != header["method"]:
            raise ValueError(f"{directory}: holds a {header['method']!r} model, not {method_cls.name!r}")
        method = method_cls(header["config"], tier=header["tier"], device=device)
        method._set_state(load_file(str(directory / "state.safetensors")), header["meta"])
        method.fitted = True
        return method

    # for subclasses -----------------------------------------------------------------
    @abstractmethod
    def _fit(self, images: list[np.ndarray], anomalies: list[AnomalySample], progress: Progress) -> None:
        ...

    @abstractmethod
    def _predict(self, images: list[np.ndarray]) -> list[Prediction]:
        ...

    @abstractmethod
    def _state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        ...

    @abstractmethod
    def _set_state(self, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        ...


def _no_progress(fraction: float, desc: str) -> None:
    return None


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)

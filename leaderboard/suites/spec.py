"""A suite is plain data: which datasets, categories, capture conditions, shots and metrics.

Suites are versioned YAML files in `definitions/`; a task list is either written out or
expanded from `categories × conditions`. Generated suites name a generator and a seed,
real-dataset suites expect a `--data-root`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from leaderboard.suites.conditions import CONDITIONS

DEFAULT_METRICS = [
    "image_auroc", "image_auroc_logical", "image_auroc_structural", "pixel_auroc", "aupro", "spro", "f1_max",
]


class SuiteError(ValueError):
    """A suite file that does not parse or validate; the message names the file and the field."""


class Task(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str
    condition: str = "white_bg"  # applied to the test images
    train_condition: str = "white_bg"  # applied to the normals used for fitting
    shots: Optional[int] = Field(default=None, ge=1)
    captured: Optional[str] = None  # real datasets captured under a condition (VID-AD's folders)

    @property
    def reported_condition(self) -> str:
        return self.captured or self.condition

    @property
    def key(self) -> str:
        shots = f"/{self.shots}-shot" if self.shots else ""
        return f"{self.category}/{self.reported_condition}{shots}"

    @property
    def maps_root(self) -> str:
        """`<condition>[/<N>-shot]`: the folder of a map submission (and of `run-suite --save-maps`) whose
        subtree is this task's maps in the official layout, `<category>/test/<defect_type>/<image_id>.tiff`."""
        shots = f"/{self.shots}-shot" if self.shots else ""
        return f"{self.reported_condition}{shots}"


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: int
    description: str
    source: Literal["generated", "data_root"]
    generator: Optional[str] = None  # for generated suites: a name in GENERATORS
    seed: int = 0
    size: int = 256
    layout: Optional[str] = None  # for data_root suites: the expected layout
    # Test images anyone can get, so maps made elsewhere may be submitted; unset: true for generated suites.
    public_test: Optional[bool] = None
    hub_dataset: Optional[str] = None  # a Hub dataset repo to fetch into data_root when reachable
    hub_revision: Optional[str] = None
    where_to_get: Optional[str] = None  # one line for a missing data root
    metrics: list[str] = Field(default_factory=lambda: list(DEFAULT_METRICS))
    categories: list[str] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=lambda: ["white_bg"])
    train_condition: str = "white_bg"  # "same" applies each task's condition to the normals too
    shots: Optional[int] = Field(default=None, ge=1)
    tasks: list[Task] = Field(default_factory=list)

    @model_validator(mode="after")
    def _expand(self) -> "Suite":
        if self.source == "generated" and not self.generator:
            raise ValueError("a generated suite needs 'generator'")
        if self.public_test is None:
            self.public_test = self.source == "generated"
        if not self.tasks:
            if not self.categories:
                raise ValueError("give 'tasks' or 'categories'")
            self.tasks = [
                Task(
                    category=c,
                    condition=cond,
                    train_condition=cond if self.train_condition == "same" else self.train_condition,
                    shots=self.shots,
                )
                for c in self.categories
                for cond in self.conditions
            ]
        for task in self.tasks:
            for cond in (task.condition, task.train_condition, task.captured or "white_bg"):
                if cond not in CONDITIONS:
                    raise ValueError(f"task {task.key}: unknown condition {cond!r}; known: {', '.join(CONDITIONS)}")
        return self

    @property
    def has_kinds(self) -> bool:
        """Whether its test sets split into logical and structural anomalies (it reports each kind's AUROC)."""
        return bool({"image_auroc_logical", "image_auroc_structural"} & set(self.metrics))


def load_suite(path: Path) -> Suite:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: not valid YAML ({exc})") from None
    try:
        return Suite.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise SuiteError(f"{path}: {problems}") from None

"""A leaderboard submission is data, never code: a registered method, its config and the suites to run.

Everything a submitter writes is checked here before it reaches the queue: names match a
strict pattern (so none can become a path), the method, its config keys and the suites
must be registered, and a Hub model must be pinned to a commit. Beside the method's keys a
config may carry the evaluation options `anomaly_shots` and `split` (few-shot, one test kind);
they change what is measured, so the board ranks such runs in their own setting. Two submissions that
would compute the same numbers share one content hash and run once.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SubmissionError(ValueError):
    """Every problem with a submission, as (field, message) pairs; the only error `parse` raises."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("invalid submission:\n" + "\n".join(f"  {f}: {m}" for f, m in errors))


def check_name(value: str, what: str) -> str:
    """A name that is safe as a path component: no '/', no '..', not absolute, short."""
    if not _NAME.fullmatch(value) or ".." in value:
        raise ValueError(f"{what} {value!r} must match {NAME_PATTERN} and not contain '..'")
    return value


def _reject_paths(value: Any, where: str) -> None:
    """Config values are never paths: refuse anything that could walk the file system."""
    if isinstance(value, str):
        if ".." in value or value.startswith(("/", "~")) or "\\" in value or _CONTROL.search(value):
            raise ValueError(f"{where}: {value!r} looks like a path; config values may not name files")
    elif isinstance(value, dict):
        for k, v in value.items():
            _reject_paths(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _reject_paths(v, f"{where}[{i}]")


class SuiteSelection(BaseModel):
    """A registered suite and optionally a subset of its categories and conditions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    categories: Optional[list[str]] = Field(default=None, min_length=1, max_length=64)
    conditions: Optional[list[str]] = Field(default=None, min_length=1, max_length=16)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v, "suite name")

    @field_validator("categories", "conditions")
    @classmethod
    def _names(cls, v: Optional[list[str]]) -> Optional[list[str]]:
        return None if v is None else sorted({check_name(x, "name") for x in v})


class HubModel(BaseModel):
    """Weights on the Hub the submission refers to, pinned so the numbers stay reproducible."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    repo_id: str
    revision: str

    @field_validator("repo_id")
    @classmethod
    def _repo(cls, v: str) -> str:
        if not _REPO_ID.fullmatch(v) or ".." in v:
            raise ValueError(f"{v!r} is not a Hub repo id of the form owner/name")
        return v

    @field_validator("revision")
    @classmethod
    def _revision(cls, v: str) -> str:
        if not _COMMIT.fullmatch(v):
            raise ValueError(f"{v!r} is not a commit hash; pin the model to a 40-character lowercase hex commit, "
                             f"not a branch or tag")
        return v


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    display_name: str = Field(min_length=1, max_length=80)
    submitter: str
    method: str
    config: dict[str, Any] = Field(default_factory=dict)
    suites: list[SuiteSelection] = Field(min_length=1, max_length=16)
    model: Optional[HubModel] = None

    @field_validator("display_name")
    @classmethod
    def _display(cls, v: str) -> str:
        if _CONTROL.search(v) or "/" in v or "\\" in v or ".." in v:
            raise ValueError("may not contain control characters, '/', '\\' or '..'")
        return v.strip()

    @field_validator("submitter")
    @classmethod
    def _submitter(cls, v: str) -> str:
        return check_name(v, "submitter")

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        return check_name(v, "method")

    def content(self) -> dict[str, Any]:
        """What determines the numbers: method, resolved config, suites and model; not who or what name."""
        return {
            "method": self.method,
            "config": self.config,
            "suites": sorted((s.model_dump() for s in self.suites), key=lambda s: json.dumps(s, sort_keys=True)),
            "model": self.model.model_dump() if self.model else None,
        }

    @property
    def content_hash(self) -> str:
        canonical = json.dumps(self.content(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _field(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top)"


def _check_registered(sub: Submission) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The resolved config (every default filled in) and what is not registered or not valid."""
    import methods
    from leaderboard import suites
    from leaderboard.evaluate import evaluation_options
    from leaderboard.run_suite import select_tasks
    from leaderboard.suites.conditions import CONDITIONS
    from methods.base import ConfigError, validate_config

    errors: list[tuple[str, str]] = []
    resolved = dict(sub.config)
    split = None
    try:
        _reject_paths(sub.config, "config")
        method_config, anomaly_shots, split = evaluation_options(sub.config)
        cls = methods.get(sub.method)
        cfg = validate_config(sub.method, cls.Config, method_config)
        cls(cfg, device="cpu")  # methods check value ranges in __init__; nothing is loaded or run
        resolved = json.loads(json.dumps(dataclasses.asdict(cfg)))
        resolved.update({k: v for k, v in (("anomaly_shots", anomaly_shots), ("split", split)) if v is not None})
    except KeyError as exc:  # UnknownNameError
        errors.append(("method", str(exc)))
    except (ConfigError, ValueError) as exc:
        errors.append(("config", str(exc)))
    seen = set()
    for i, sel in enumerate(sub.suites):
        where = f"suites.{i}"
        if sel.name in seen:
            errors.append((f"{where}.name", f"suite {sel.name!r} is listed twice"))
        seen.add(sel.name)
        try:
            suite = suites.get(sel.name)
        except KeyError as exc:
            errors.append((f"{where}.name", str(exc)))
            continue
        except ValueError as exc:
            errors.append((f"{where}.name", str(exc)))
            continue
        bad = [c for c in sel.conditions or [] if c not in CONDITIONS]
        if bad:
            errors.append((f"{where}.conditions", f"unknown conditions {bad}; known: {', '.join(CONDITIONS)}"))
            continue
        try:
            select_tasks(suite, sel.categories, sel.conditions)
        except ValueError as exc:
            errors.append((f"{where}.categories", str(exc)))
        if split and not suite.has_kinds:
            errors.append((f"{where}.name", f"config.split={split!r} needs logical/structural test kinds; "
                                             f"suite {sel.name!r} has none"))
    return resolved, errors


def parse(source: Any) -> Submission:
    """A validated submission from YAML text, bytes or a mapping; raises only SubmissionError."""
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SubmissionError([("(file)", f"not UTF-8 text ({exc.reason})")]) from None
    if isinstance(source, str):
        try:
            source = yaml.safe_load(source)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
            raise SubmissionError([("(file)", f"not valid YAML ({str(exc).splitlines()[0] if str(exc) else exc})")]) \
                from None
    if not isinstance(source, dict):
        raise SubmissionError([("(top)", f"expected a mapping of submission fields, got {type(source).__name__}")])
    try:
        sub = Submission.model_validate(source)
    except ValidationError as exc:
        raise SubmissionError([(_field(e["loc"]), e["msg"]) for e in exc.errors()]) from None
    except RecursionError:
        raise SubmissionError([("(top)", "nested too deeply")]) from None
    resolved, errors = _check_registered(sub)
    if errors:
        raise SubmissionError(errors)
    return sub.model_copy(update={"config": resolved})


def load(path: str | Path) -> Submission:
    p = Path(path)
    if not p.is_file():
        raise SubmissionError([("(file)", f"{p}: no such file")])
    return parse(p.read_bytes())

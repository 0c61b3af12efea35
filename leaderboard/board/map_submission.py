"""Map submissions: anomaly maps made elsewhere, scored here and ranked beside the methods run here.

Only for suites whose test images are public (`public_test`; the generated suites unless they
say otherwise), since the submitter must run their method on those images. No submitted code
runs: the zip holds float TIFF maps and optional `scores.csv` files, nothing else. Its directory
is checked entry by entry before a byte is extracted, every task is scored with `score_maps`,
and the submission is stored with all its task rows in one transaction, or not at all.

Zip layout, one folder per task (`Task.maps_root`: `<condition>`, or `<condition>/<N>-shot` for
a suite with shots) holding the official layout of each category, which is what
`run-suite --save-maps DIR` writes under DIR:

    white_bg/brick/test/good/000.tiff
    white_bg/brick/test/scratch/003.tiff
    white_bg/brick/scores.csv            optional: the method's own image scores (see score_maps)
    low_light/brick/test/...

Every task of the suite needs its maps, unless the meta YAML names a subset with `categories`
and/or `conditions`; a missing task or map is refused by name, never stored as a partial row.
"""
from __future__ import annotations

import hashlib
import json
import re
import stat
import struct
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any, Optional

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from tqdm.auto import tqdm

from hub.registry import suggest
from leaderboard.board import db, store
from leaderboard.board.queue import FINISHED, Queue
from leaderboard.board.submission import check_name

if TYPE_CHECKING:  # the suites package imports scipy, which the CLI's --help should not wait for
    from leaderboard.suites.spec import Suite, Task

TIER = "external"  # the results table's tier for numbers computed from submitted maps
WORKER = "score-maps"
MAX_ZIP_BYTES = 1024**3  # the upload itself
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3  # all of synthetic-logic's 6,000 maps at 256×256 float32 is 1.6 GB
MAX_ENTRIES = 10_000  # files and folders
MAX_DIRECTORY_BYTES_PER_ENTRY = 1024  # bounds the central directory zipfile reads into memory
ALLOWED_SUFFIXES = (".tif", ".tiff", ".csv")
MAX_LISTED = 20  # names per refusal message; the count says how many more
_JUNK = re.compile(r"(^|/)(__MACOSX/|\.[^/]*$|thumbs\.db$|desktop\.ini$)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL = re.compile(r"^https?://[^\s/]+\.[^\s/]+(/\S*)?$")


class MapSubmissionError(ValueError):
    """A refused map submission; the message says why and names every offending entry, task or field."""


def _plain_name(v: str) -> str:
    if _CONTROL.search(v) or "/" in v or "\\" in v or ".." in v:
        raise ValueError("may not contain control characters, '/', '\\' or '..'")
    return v.strip()


def _text(v: str) -> str:
    if _CONTROL.search(v.replace("\n", " ")):
        raise ValueError("may not contain control characters")
    return v.strip()


def _link(v: str) -> str:
    if not _URL.fullmatch(v):
        raise ValueError(f"{v!r} is not an http(s) link")
    return v


def _names(v: list[str]) -> list[str]:
    return sorted({check_name(x, "name") for x in v})


Text = Annotated[str, AfterValidator(_text)]
Link = Annotated[str, Field(max_length=300), AfterValidator(_link)]
Names = Annotated[list[str], Field(min_length=1, max_length=64), AfterValidator(_names)]


class MapMeta(BaseModel):
    """What the table shows about a method whose maps were made elsewhere."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_plain_name)]  # the row's display name
    submitter: Annotated[str, AfterValidator(lambda v: check_name(v, "submitter"))]
    framework: Annotated[Text, Field(min_length=1, max_length=80)]  # e.g. "anomalib 1.1.0"
    paper: Optional[Link] = None
    code: Optional[Link] = None
    description: Annotated[Text, Field(max_length=500)] = ""
    categories: Optional[Names] = None  # a subset of the suite's
    conditions: Optional[Names] = None


def parse_meta(text: str) -> MapMeta:
    """The validated meta YAML; an unknown field is named with the nearest known one."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MapSubmissionError(f"meta YAML: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise MapSubmissionError(f"meta YAML: expected a mapping of fields, got {type(data).__name__}")
    try:
        meta = MapMeta.model_validate(data)
    except ValidationError as exc:
        fields = list(MapMeta.model_fields)
        lines = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "(top)"
            if e["type"] == "extra_forbidden":
                lines.append(f"  {where}: unknown field.{suggest(str(e['loc'][0]), fields)} "
                             f"Known fields: {', '.join(fields)}")
            else:
                lines.append(f"  {where}: {e['msg']}")
        raise MapSubmissionError("meta YAML is invalid:\n" + "\n".join(lines)) from None
    if meta.paper is None and meta.code is None:
        raise MapSubmissionError("meta YAML is invalid:\n  paper, code: give at least one link, the paper or the code")
    return meta


def _listed(items: list[str]) -> str:
    more = f", and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return ", ".join(items[:MAX_LISTED]) + more


def _unsafe(info: zipfile.ZipInfo) -> Optional[str]:
    """Why an entry may not be extracted, or None."""
    name = info.filename
    mode = info.external_attr >> 16
    if "\\" in name:
        return "a backslash in the name; zip entries use '/' between folders"
    if _CONTROL.search(name):
        return "control characters in the name"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if ".." in PurePosixPath(name).parts:
        return "'..' in the path, which would write outside the extraction folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):  # 0: no type recorded (DOS, writestr)
        return "not a regular file or folder"
    if info.flag_bits & 0x1:
        return "encrypted"
    return None


def _directory_size(path: Path) -> tuple[int, int]:
    """(entries, bytes) of the central directory as the end record declares them, read before `zipfile`
    parses every entry into memory; (0, 0) when there is no end record (zipfile then says it is no zip)."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        f.seek(max(0, size - 65_557))  # the end record (22 bytes) and a comment of at most 65,535
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return 0, 0
    entries, directory_bytes = struct.unpack("<HI", tail[at + 10:at + 16])
    at64 = tail.rfind(b"PK\x06\x06", 0, at)  # Zip64: the counts in the 32-bit record are placeholders
    if (entries == 0xFFFF or directory_bytes == 0xFFFFFFFF) and at64 >= 0 and len(tail) >= at64 + 48:
        entries, directory_bytes = struct.unpack("<QQ", tail[at64 + 32:at64 + 48])
    return entries, directory_bytes


def check_zip(path: str | Path) -> list[zipfile.ZipInfo]:
    """The files to extract, after every entry of the archive's directory passed the caps and checks."""
    path = Path(path)
    if not path.is_file():
        raise MapSubmissionError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_ZIP_BYTES:
        raise MapSubmissionError(f"{path.name}: {size:,} bytes, over the upload limit of {MAX_ZIP_BYTES:,} bytes")
    declared, directory_bytes = _directory_size(path)
    if declared > MAX_ENTRIES or directory_bytes > MAX_ENTRIES * MAX_DIRECTORY_BYTES_PER_ENTRY:
        raise MapSubmissionError(f"{path.name}: {declared:,} entries ({directory_bytes:,} bytes of directory), over "
                                 f"the limit of {MAX_ENTRIES:,} entries")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise MapSubmissionError(f"{path.name}: not a readable zip file ({exc})") from None
    if len(infos) > MAX_ENTRIES:
        raise MapSubmissionError(f"{path.name}: {len(infos):,} entries, over the limit of {MAX_ENTRIES:,}")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        biggest = max(infos, key=lambda i: i.file_size)
        raise MapSubmissionError(f"{path.name}: {total:,} bytes uncompressed, over the limit of "
                                 f"{MAX_UNCOMPRESSED_BYTES:,} bytes (largest entry: {biggest.filename}, "
                                 f"{biggest.file_size:,} bytes)")
    problems, files, seen = [], [], set()
    for info in infos:
        why = _unsafe(info)
        name = PurePosixPath(info.filename).as_posix()
        if why is None and name in seen:
            why = "a second entry with this name"
        seen.add(name)
        if why is None and not info.is_dir() and not _JUNK.search(name):
            if PurePosixPath(name).suffix.lower() not in ALLOWED_SUFFIXES:
                why = f"only {', '.join(ALLOWED_SUFFIXES)} files are allowed"
            else:
                files.append(info)
        if why:
            problems.append(f"{info.filename!r}: {why}")
    if problems:
        raise MapSubmissionError(f"{path.name}: {len(problems)} entr{'y' if len(problems) == 1 else 'ies'} "
                                 f"refused, nothing was extracted:\n  " + "\n  ".join(problems[:MAX_LISTED]))
    return files


def check_layout(files: list[zipfile.ZipInfo], tasks: list[Task]) -> None:
    """Every task has maps and every file belongs to a task; all strays and missing tasks in one error."""
    folders = {f"{t.maps_root}/{t.category}": t for t in tasks}
    with_maps, stray = set(), []
    for info in files:
        name = PurePosixPath(info.filename).as_posix()
        folder = next((f for f in folders if name.startswith(f + "/")), None)
        rest = name[len(folder) + 1:] if folder else ""
        if folder and rest.startswith("test/"):
            with_maps.add(folder)
        elif not folder or rest != "scores.csv":
            stray.append(name)
    problems = []
    tops = {PurePosixPath(i.filename).parts[0] for i in files}
    if stray and not with_maps and len(tops) == 1:
        problems.append(f"every entry sits under {tops.pop()}/: zip the folder's contents, not the folder")
    missing = [f"{t.key} (no {f}/test/)" for f, t in folders.items() if f not in with_maps]
    if missing:
        problems.append(f"{len(missing)} of {len(folders)} task(s) have no maps: {_listed(missing)}. Partial "
                        "submissions are refused; to submit a subset, list `categories` and/or `conditions` in the "
                        "meta YAML")
    if stray:
        problems.append(f"{len(stray)} file(s) belong to no task: {_listed(stray)}. Files go in <condition>/"
                        "<category>/test/<defect_type>/<image_id>.tiff or <condition>/<category>/scores.csv")
    if problems:
        raise MapSubmissionError("\n".join(problems))


def _extract(zip_path: Path, files: list[zipfile.ZipInfo], dest: Path) -> None:
    """Write the checked files under `dest`, never more bytes than each header declared."""
    dest = dest.resolve()
    with zipfile.ZipFile(zip_path) as zf:
        for info in files:
            target = dest / PurePosixPath(info.filename)
            if not target.resolve().is_relative_to(dest):
                raise MapSubmissionError(f"{info.filename!r}: resolves outside the extraction folder")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("xb") as out:
                    written = 0
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > info.file_size:
                            raise MapSubmissionError(f"{info.filename!r}: holds more bytes than its header declares")
                        out.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise MapSubmissionError(f"{info.filename!r}: could not be extracted ({exc})") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check_rate(queue: Queue, submitter: str, now: float) -> None:
    if submitter in queue.exempt:
        return
    (recent,) = queue.conn.execute("SELECT COUNT(*) FROM submissions WHERE submitter = ? AND created_at > ?",
                                   (submitter, now - queue.rate_window_s)).fetchone()
    if recent >= queue.rate_limit:
        raise MapSubmissionError(f"submitter {submitter!r} has sent {recent} submissions in the last "
                                 f"{queue.rate_window_s / 3600:g} h; the limit is {queue.rate_limit}")


def _score(zip_path: Path, files: list[zipfile.ZipInfo], suite: Suite, tasks: list[Task], work_dir: Path,
           meta: MapMeta) -> list[dict[str, Any]]:
    """One `evaluate`-schema row per task, or one error naming every problem of every task."""
    from leaderboard import suites
    from leaderboard.run_suite import task_id
    from leaderboard.score_maps import SCORES_FILE, score_maps

    with tempfile.TemporaryDirectory(prefix="map-submission-", dir=work_dir) as tmp:
        maps = Path(tmp).resolve()
        _extract(zip_path, files, maps)
        root = suites.materialise(suite, categories=sorted({t.category for t in tasks}))
        rows, problems = [], []
        for task in tqdm(tasks, desc=f"score maps on {suite.name}", unit="task", disable=None):
            try:
                row = score_maps(maps / task.maps_root, root, task.category, task.reported_condition)
            except ValueError as exc:  # MapsError, or a DatasetError for the suite's own data
                problems.append(f"{task.key}: " + str(exc).replace(f"{maps}/", ""))
                continue
            folder = f"{task.maps_root}/{task.category}"
            row.update(suite=suite.name, suite_version=suite.version, condition=task.reported_condition,
                       task=task.key, tier=TIER, source=store.MAPS_SUBMITTED, meta=meta.model_dump(),
                       task_id=task_id(suite, task, row["method"], meta.model_dump(), TIER),
                       seed=suite.seed if suite.source == "generated" else None, maps_dir=folder,
                       scores_file=f"{folder}/{SCORES_FILE}" if row["scores_file"] else None)
            rows.append(row)
    if problems:
        raise MapSubmissionError("maps refused:\n" + "\n".join(problems))
    return rows


def _summary(queue: Queue, submission_id: str, created: bool) -> dict[str, Any]:
    from leaderboard.board import export
    from leaderboard.run_suite import main_metric

    rows = store.results(queue, submission_id)
    metrics = sorted({k for r in rows for k, v in r["metrics"].items() if v is not None})
    means = {k: sum(vals) / len(vals) for k in metrics
             if (vals := [r["metrics"][k] for r in rows if r["metrics"].get(k) is not None])}
    suite = rows[0]["suite"]
    table = export.summary(queue, suite)
    ranked = table[table["submission_id"] == submission_id]
    return {
        "id": submission_id, "created": created, "display_name": rows[0]["display_name"], "suite": suite,
        "tier": TIER, "source": store.MAPS_SUBMITTED, "n_tasks": len(rows),
        "rank": int(ranked["rank"].iloc[0]), "of": int((table["setting"] == ranked["setting"].iloc[0]).sum()),
        "score": float(ranked["score"].iloc[0]),
        "mean_metrics": means,
        "rows": [{"task": r["task"], "category": r["category"], "condition": r["condition"],
                  "main_metric": main_metric(r), "metrics": r["metrics"]} for r in rows],
    }


def submit_maps_to(queue: Queue, zip_path: str | Path, meta_yaml: str, suite: str) -> dict[str, Any]:
    """`submit_maps` on an open queue (the CLI's `--db`)."""
    from leaderboard import suites
    from leaderboard.run_suite import config_hash, select_tasks

    meta = parse_meta(meta_yaml)
    try:
        spec = suites.get(suite)
    except KeyError as exc:  # UnknownNameError
        raise MapSubmissionError(str(exc)) from None
    if not spec.public_test:
        public = [n for n in suites.available() if suites.get(n).public_test]
        raise MapSubmissionError(f"suite {suite!r}: its test images are not public, so maps made elsewhere cannot "
                                 f"be scored on it; map submissions are open for: {', '.join(public)}")
    try:
        tasks = select_tasks(spec, meta.categories, meta.conditions)
    except ValueError as exc:
        raise MapSubmissionError(str(exc)) from None
    zip_path = Path(zip_path)
    files = check_zip(zip_path)
    check_layout(files, tasks)
    spec_json = {"kind": "maps", "meta": meta.model_dump(), "suite": spec.name, "suite_version": spec.version,
                 "tasks": [t.key for t in tasks], "zip_sha256": _sha256(zip_path)}
    digest = hashlib.sha256(json.dumps(spec_json, sort_keys=True).encode()).hexdigest()
    existing = queue.conn.execute("SELECT id FROM submissions WHERE content_hash = ?", (digest,)).fetchone()
    if existing is not None:
        return _summary(queue, existing["id"], created=False)
    _check_rate(queue, meta.submitter, time.time())

    rows = _score(zip_path, files, spec, tasks, queue.path.parent, meta)
    submission_id, now = digest[:16], time.time()
    with db.transaction(queue.conn) as c:
        created = c.execute("SELECT 1 FROM submissions WHERE content_hash = ?", (digest,)).fetchone() is None
        if created:  # else the same submission was stored while these maps were scored
            c.execute(
                "INSERT INTO submissions (id, content_hash, submitter, display_name, method, spec_json, state, "
                "created_at, started_at, finished_at, worker, log_tail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (submission_id, digest, meta.submitter, meta.name, rows[0]["method"], json.dumps(spec_json),
                 FINISHED, now, now, now, WORKER, f"scored {len(rows)} task(s) from {zip_path.name}"),
            )
            for row in rows:
                store.insert(c, submission_id, WORKER, row, config_hash=config_hash(meta.model_dump()))
    return _summary(queue, submission_id, created=created)


def submit_maps(zip_path: str | Path, meta_yaml: str, suite: str, *, store_dir: Optional[str | Path] = None
                ) -> dict[str, Any]:
    """Score a zip of maps on every (selected) task of `suite` and store it as one ranked, FINISHED submission.

    `store_dir` holds the results database (default: `data_dir()`, the one `table` and the app read).
    Returns the stored submission: id, created (False: an identical one was stored before), display_name,
    suite, tier "external", source "maps submitted", n_tasks, rank of `of` rows, score, mean_metrics, rows.
    Raises MapSubmissionError for any refusal, with nothing stored.
    """
    queue = Queue(Path(store_dir) / db.DB_NAME if store_dir else None)
    try:
        return submit_maps_to(queue, zip_path, meta_yaml, suite)
    finally:
        queue.close()

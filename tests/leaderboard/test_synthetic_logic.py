"""The procedural VID-AD generator: layout, masks, manifest, determinism, and rules that hold or break as labelled."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from leaderboard.suites.contact_sheet import contact_sheet
from leaderboard.suites.synthetic_logic import (
    PIXEL_VALUES, SCENARIOS, SPLITS, STRUCTURAL_DEFECTS, compose, generate, logical_plan, render_scene, scenes,
)
from leaderboard.suites.synthetic_logic.scene import PALETTE, colour_name, jitter_colour

TINY = {
    "train/good": 2, "validation/good": 1, "test/good": 2, "test/logical_anomalies": 3, "test/structural_anomalies": 2,
}
SIZE = 128


def _png(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("synthetic_logic")
    return root, generate(root, seed=0, size=SIZE, counts=TINY)


def _manifest(folder: Path) -> dict:
    with open(folder / "MANIFEST.json") as f:
        return json.load(f)


def test_writes_one_folder_per_scenario_and_an_index(dataset):
    root, folders = dataset
    assert folders == [root / name for name in SCENARIOS]
    with open(root / "MANIFEST.json") as f:
        index = json.load(f)
    assert [s["name"] for s in index["scenarios"]] == list(SCENARIOS)
    assert all((root / s["manifest"]).exists() for s in index["scenarios"])


def test_layout_counts_and_foreground(dataset):
    root, _ = dataset
    for name in SCENARIOS:
        for key in SPLITS:
            images = sorted((root / name / key).glob("*.png"))
            assert [p.name for p in images] == [f"{i:03d}.png" for i in range(TINY[key])], (name, key)
            for p in images:
                img = _png(p)
                assert img.shape == (SIZE, SIZE, 3) and img.dtype == np.uint8
                fg = _png(root / name / "foreground" / key / p.name)
                assert fg.shape == (SIZE, SIZE)
                assert set(np.unique(fg)) <= {0, 255}
                assert 0.02 < (fg > 0).mean() < 0.95, (name, key, p.name)


def test_defects_config_is_loco_format(dataset):
    root, _ = dataset
    for name, scenario in SCENARIOS.items():
        with open(root / name / "defects_config.json") as f:
            config = json.load(f)
        assert [d["defect_name"] for d in config] == list(scenario.logical_defects + STRUCTURAL_DEFECTS)
        assert len({d["pixel_value"] for d in config}) == len(config)
        for d in config:
            assert set(d) == {"defect_name", "pixel_value", "saturation_threshold", "relative_saturation"}
            assert d["pixel_value"] == PIXEL_VALUES[d["defect_name"]]
            if d["relative_saturation"]:
                assert 0 < d["saturation_threshold"] <= 1
            else:
                assert isinstance(d["saturation_threshold"], int) and d["saturation_threshold"] > 0


def test_every_anomaly_has_masks_with_its_pixel_values(dataset):
    root, _ = dataset
    for name in SCENARIOS:
        folder = root / name
        for entry in _manifest(folder)["images"]:
            if entry["label"] == 0:
                assert entry["masks"] == []
                continue
            stem = Path(entry["path"]).stem
            defect_dir = Path(entry["path"]).parent.name
            files = sorted((folder / "ground_truth" / defect_dir / stem).glob("*.png"))
            assert [f.relative_to(folder).as_posix() for f in files] == entry["masks"]
            assert len(files) == len(entry["defect_types"]) >= 1
            fg = _png(folder / entry["foreground"]) > 0
            for f, defect in zip(files, entry["defect_types"]):
                mask = _png(f)
                assert mask.shape == (SIZE, SIZE)
                assert set(np.unique(mask)) == {0, PIXEL_VALUES[defect]}, (name, entry["path"], defect)
                on = mask > 0
                if defect in ("scratch", "hole", "stain", "crack"):
                    assert (on & fg).sum() >= 0.9 * on.sum(), f"{name} {entry['path']}: {defect} off the object"
                if defect in ("extra_object", "wrong_type"):
                    assert (on & fg).sum() >= 0.9 * on.sum(), f"{name} {entry['path']}: {defect} mask not on an object"


def test_manifest_describes_every_image(dataset):
    root, _ = dataset
    for name, scenario in SCENARIOS.items():
        folder = root / name
        manifest = _manifest(folder)
        assert manifest["rule"] == scenario.rule and manifest["aspects"] == list(scenario.aspects)
        entries = {e["path"]: e for e in manifest["images"]}
        on_disk = {p.relative_to(folder).as_posix() for key in SPLITS for p in (folder / key).glob("*.png")}
        assert set(entries) == on_disk
        for path, e in entries.items():
            kind = {"good": "good", "logical_anomalies": "logical", "structural_anomalies": "structural"}[
                Path(path).parent.name]
            assert e["kind"] == kind and e["label"] == int(kind != "good")
            if kind == "logical":
                assert e["aspects_violated"] and set(e["aspects_violated"]) <= set(scenario.aspects)
                assert e["violation"] == ("dual" if len(e["aspects_violated"]) == 2 else
                                          "single_a" if e["aspects_violated"] == [scenario.aspects[0]] else "single_b")
            else:
                assert e["aspects_violated"] == []
            assert bool(e["description"]) == (kind != "good")
            assert e["scene"] and all("kind" in fact for fact in e["scene"])


def test_manifest_matches_the_scenes_and_their_verdicts(dataset):
    root, _ = dataset
    for name, scenario in SCENARIOS.items():
        entries = {e["path"]: e for e in _manifest(root / name)["images"]}
        for key, i, scene in scenes(name, seed=0, counts=TINY):
            e = entries[f"{key}/{i:03d}.png"]
            assert e["scene"] == scene.facts()
            assert sorted(scenario.check(scene.items)) == sorted(e["aspects_violated"])


def test_same_seed_same_bytes_other_seed_other_images(dataset, tmp_path):
    root, _ = dataset
    names = ["Fruits", "Balls"]
    again = generate(tmp_path / "again", seed=0, size=SIZE, scenarios=names, counts=TINY)
    for folder in again:
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        assert len(files) > 20
        for p in files:
            assert p.read_bytes() == (root / folder.name / p.relative_to(folder)).read_bytes(), p
    other = generate(tmp_path / "other", seed=1, size=SIZE, scenarios=names, counts=TINY)
    for folder in other:
        for p in sorted((folder / "train" / "good").glob("*.png")):
            assert p.read_bytes() != (root / folder.name / "train" / "good" / p.name).read_bytes()


def test_regenerating_replaces_an_earlier_run(tmp_path):
    generate(tmp_path, size=SIZE, scenarios=["Tapes"], counts={**TINY, "train/good": 4})
    generate(tmp_path, size=SIZE, scenarios=["Tapes"], counts=TINY)
    assert len(list((tmp_path / "Tapes" / "train" / "good").glob("*.png"))) == TINY["train/good"]


def test_refuses_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "Tapes").mkdir()
    (tmp_path / "Tapes" / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError):
        generate(tmp_path, size=SIZE, scenarios=["Tapes"], counts=TINY)
    assert (tmp_path / "Tapes" / "mine.txt").read_text() == "keep"


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_normals_keep_the_rule_and_anomalies_break_what_they_say(name):
    scenario = SCENARIOS[name]
    a, b = scenario.aspects
    for seed in range(25):
        good = compose(scenario, np.random.default_rng(seed), "good")
        assert scenario.check(good.items) == set(), f"{name} seed {seed}: a normal scene breaks the rule"
        for aspects in ((a,), (b,), (a, b)):
            bad = compose(scenario, np.random.default_rng(seed), "logical", aspects=aspects)
            assert scenario.check(bad.items) == set(aspects), f"{name} seed {seed}: {bad.description}"
            assert set(bad.aspects_violated) == set(aspects)
            assert all(v.description for v in bad.violations)
        defect = STRUCTURAL_DEFECTS[seed % len(STRUCTURAL_DEFECTS)]
        broken = compose(scenario, np.random.default_rng(seed), "structural", defect=defect)
        assert scenario.check(broken.items) == set()
        assert [it.defect for it in broken.items if it.defect] == [defect]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_normal_images_vary(name):
    """Nuisance: two normal images of a scenario differ in where objects are and how the scene is lit."""
    scenario = SCENARIOS[name]
    shots = [render_scene(compose(scenario, np.random.default_rng(s), "good"), SIZE) for s in (0, 1)]
    assert np.abs(shots[0].image.astype(int) - shots[1].image.astype(int)).mean() > 4
    assert (shots[0].foreground != shots[1].foreground).mean() > 0.01


def test_masks_are_inside_the_image_and_not_empty():
    for name, scenario in SCENARIOS.items():
        scene = compose(scenario, np.random.default_rng(3), "logical", aspects=scenario.aspects)
        rendered = render_scene(scene, SIZE)
        for v in scene.violations:
            for uid in v.uids:
                assert rendered.footprints[uid].shape == (SIZE, SIZE) and rendered.footprints[uid].any(), name


def test_logical_plan_follows_vid_ad_table_3():
    for scenario in SCENARIOS.values():
        a, b, dual = scenario.paper_counts
        plan = logical_plan(scenario, a + b + dual)
        assert plan.count((scenario.aspects[0],)) == a
        assert plan.count((scenario.aspects[1],)) == b
        assert plan.count(tuple(scenario.aspects)) == dual
        plan = logical_plan(scenario, 40)
        n_dual = plan.count(tuple(scenario.aspects))
        assert len(plan) == 40 and 2 <= n_dual <= 6
        assert abs(plan.count((scenario.aspects[0],)) - plan.count((scenario.aspects[1],))) <= 3


def test_colour_jitter_never_changes_a_colour_name():
    rng = np.random.default_rng(0)
    for name in PALETTE:
        assert all(colour_name(jitter_colour(rng, name)) == name for _ in range(300)), name


def test_unknown_names_are_refused_with_a_suggestion(tmp_path):
    with pytest.raises(ValueError, match="Sticks"):
        generate(tmp_path, scenarios=["Stick"], counts=TINY)
    with pytest.raises(ValueError, match="train/good"):
        generate(tmp_path, counts={"train/goods": 1})


def test_progress_reaches_one(tmp_path):
    seen: list[float] = []
    generate(tmp_path, size=SIZE, scenarios=["Sticks"], counts=TINY, progress=lambda f, d: seen.append(f))
    assert len(seen) == sum(TINY.values()) and seen[-1] == pytest.approx(1.0)
    assert seen == sorted(seen)


def _red_pixels(path: Path) -> int:
    img = _png(path).astype(int)
    return int(((img[..., 0] > 200) & (img[..., 1] < 80) & (img[..., 2] < 80)).sum())


def test_contact_sheet_on_the_generated_loco_folders(dataset, tmp_path):
    root, _ = dataset
    out = contact_sheet(root, tmp_path / "sheet.png", per_kind=2, tile=96, categories=["Fruits", "Tools"])
    with Image.open(out) as im:
        width, height = im.size
    assert width > 2 * 96 and height > 2 * 3 * 96
    assert _red_pixels(out) > 50


def test_contact_sheet_on_an_mvtec_ad_folder(tmp_path):
    cat = tmp_path / "widget"
    img = np.full((64, 64, 3), 128, np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[20:40, 20:40] = 255
    for rel in ("train/good/000.png", "test/good/000.png", "test/scratch/000.png"):
        (cat / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(cat / rel)
    (cat / "ground_truth/scratch").mkdir(parents=True)
    Image.fromarray(mask).save(cat / "ground_truth/scratch/000_mask.png")
    out = contact_sheet(tmp_path, tmp_path / "sheet.png", per_kind=2, tile=64)
    assert _red_pixels(out) > 20
    with pytest.raises(ValueError, match="no category"):
        contact_sheet(tmp_path / "widget" / "train", tmp_path / "none.png")

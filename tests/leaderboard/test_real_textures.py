"""The real-texture suite: MVTec AD layout, honest masks, byte-identical reruns, disjoint crops."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from leaderboard.suites import real_textures
from leaderboard.suites.real_textures import DEFECTS, TEXTURES, crop_region, generate

SIZE = 64
COUNTS = {"train": 3, "good": 2, **{d: 2 for d in DEFECTS}}


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("real_textures")
    return out, generate(out, seed=5, size=SIZE, counts=COUNTS)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_textures_load_offline_from_scikit_image() -> None:
    assert TEXTURES == ("brick", "gravel", "grass")


def test_layout_and_counts(suite: tuple[Path, list[Path]]) -> None:
    out, roots = suite
    assert roots == [out / c for c in TEXTURES]
    for root in roots:
        assert len(list((root / "train/good").glob("*.png"))) == COUNTS["train"]
        assert len(list((root / "test/good").glob("*.png"))) == COUNTS["good"]
        assert not (root / "ground_truth/good").exists()
        for defect in DEFECTS:
            images = sorted(p.stem for p in (root / "test" / defect).glob("*.png"))
            masks = sorted(p.stem for p in (root / "ground_truth" / defect).glob("*.png"))
            assert images == ["000", "001"]
            assert masks == [f"{stem}_mask" for stem in images]


def test_masks_are_binary_non_empty_and_match_their_images(suite: tuple[Path, list[Path]]) -> None:
    _, roots = suite
    for root in roots:
        for defect in DEFECTS:
            for image_path in (root / "test" / defect).glob("*.png"):
                image = np.array(Image.open(image_path))
                mask = np.array(Image.open(root / "ground_truth" / defect / f"{image_path.stem}_mask.png"))
                assert image.shape == (SIZE, SIZE, 3)
                assert mask.shape == image.shape[:2]
                assert set(np.unique(mask)) == {0, 255}
                assert 0 < (mask > 0).mean() < 0.5


@pytest.mark.parametrize("defect", DEFECTS)
def test_defect_is_visible_and_lies_inside_its_mask(defect: str) -> None:
    rng_args = (11, "gravel", f"test/{defect}")
    for index in range(4):
        rng = real_textures._image_rng(*rng_args, index)
        box = real_textures._crop_box(rng, real_textures._photo("gravel").shape, "test")
        clean = real_textures._normal_image("gravel", box, 128, rng)
        dirty, mask, description = real_textures._DEFECT_RENDERERS[defect](clean, rng, "gravel")
        change = np.abs(dirty - clean).max(axis=2)
        assert change[mask].mean() > 8.0, description
        near = np.pad(mask, 4)
        near = np.lib.stride_tricks.sliding_window_view(near, (9, 9)).any(axis=(2, 3))
        assert change[near].sum() > 0.97 * change.sum(), description
        assert "gravel" in description


def test_reruns_are_byte_identical_and_the_seed_matters(tmp_path: Path, suite: tuple[Path, list[Path]]) -> None:
    out, _ = suite
    generate(tmp_path / "again", seed=5, size=SIZE, counts=COUNTS)
    generate(tmp_path / "other", seed=6, size=SIZE, counts=COUNTS)
    first = _files(out)
    assert _files(tmp_path / "again") == first
    other = _files(tmp_path / "other")
    assert other.keys() == first.keys()
    assert sum(other[k] != first[k] for k in first) > 0.9 * len(first)


def test_train_and_test_crops_come_from_disjoint_regions(suite: tuple[Path, list[Path]]) -> None:
    out, _ = suite
    manifest = json.loads((out / "MANIFEST.json").read_text())
    for cat, info in manifest["categories"].items():
        train, test = info["train_region"], info["test_region"]
        assert train[2] <= test[0], cat
        assert len(info["train_boxes"]) == COUNTS["train"]
        for x0, y0, x1, y1 in info["train_boxes"]:
            assert train[0] <= x0 < x1 <= train[2] and train[1] <= y0 < y1 <= train[3]
        for entry in (e for e in manifest["images"] if e["path"].startswith(f"{cat}/")):
            x0, y0, x1, y1 = entry["source_box"]
            assert test[0] <= x0 < x1 <= test[2] and test[1] <= y0 < y1 <= test[3]
    assert crop_region((512, 512), "train") == (0, 0, 341, 512)
    assert crop_region((512, 512), "test") == (341, 0, 512, 512)


def test_manifest_describes_every_test_image(suite: tuple[Path, list[Path]]) -> None:
    out, _ = suite
    manifest = json.loads((out / "MANIFEST.json").read_text())
    listed = {e["path"] for e in manifest["images"]}
    on_disk = {str(p.relative_to(out)) for p in out.glob("*/test/*/*.png")}
    assert listed == on_disk
    for entry in manifest["images"]:
        assert entry["label"] == int(entry["defect"] != "good")
        assert entry["description"]
        if entry["label"]:
            assert (out / entry["mask"]).is_file()


def test_a_smaller_rerun_leaves_no_stray_files(tmp_path: Path) -> None:
    generate(tmp_path, size=SIZE, categories=["grass"], counts={**COUNTS, "train": 4})
    generate(tmp_path, size=SIZE, categories=["grass"], counts={**COUNTS, "train": 1})
    assert [p.name for p in (tmp_path / "grass/train/good").iterdir()] == ["000.png"]


def test_categories_added_one_by_one_share_the_manifest(tmp_path: Path) -> None:
    small = {**COUNTS, "train": 1}
    generate(tmp_path, size=SIZE, categories=["grass"], counts=small)
    generate(tmp_path, size=SIZE, categories=["brick"], counts=small)
    manifest = json.loads((tmp_path / "MANIFEST.json").read_text())
    assert list(manifest["categories"]) == ["brick", "grass"]
    assert {e["path"].split("/")[0] for e in manifest["images"]} == {"brick", "grass"}
    generate(tmp_path, seed=1, size=SIZE, categories=["brick"], counts=small)
    manifest = json.loads((tmp_path / "MANIFEST.json").read_text())
    assert list(manifest["categories"]) == ["brick"]


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="brick, gravel, grass"):
        generate(tmp_path, categories=["marble"])
    with pytest.raises(ValueError, match="unknown count"):
        generate(tmp_path, counts={"test": 3})

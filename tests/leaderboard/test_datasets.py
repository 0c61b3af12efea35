"""Dataset readers: each layout read with the right labels, kinds and masks; each broken tree refused
with one DatasetError that names the path."""
import json
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from hub.images import load_image
from layout_builders import (
    make_image_folder,
    make_mvtec_ad,
    make_mvtec_loco,
    make_vid_ad,
    make_visa,
    normal_image,
    save_image_as,
    save_png,
    square,
)
from leaderboard.datasets import (
    LAYOUTS,
    DatasetError,
    DefectSpec,
    detect_layout,
    open_dataset,
    read_defects_config,
    vid_ad_condition,
)


def _names(paths):
    return [p.name for p in paths]


# --- MVTec AD ---------------------------------------------------------------------------------


def test_mvtec_ad_counts_labels_and_masks(tmp_path):
    cat = make_mvtec_ad(tmp_path, "widget")
    ds = open_dataset(tmp_path, "widget")
    assert (ds.layout, ds.category, ds.root) == ("mvtec_ad", "widget", cat)
    assert _names(ds.train) == ["000.png", "001.png", "002.png"]
    assert ds.validation == []
    assert [(s.defect_type, s.image_id, s.label) for s in ds.test] == [
        ("crack", "000", 1), ("crack", "001", 1), ("good", "000", 0), ("good", "001", 0), ("scratch", "000", 1),
    ]
    assert all(s.kind is None for s in ds.test) and not ds.has_kinds and ds.has_masks
    crack = ds.test[1]
    assert crack.mask_paths == [cat / "ground_truth" / "crack" / "001_mask.png"]
    assert set(np.unique(crack.masks()[0]).tolist()) == {0, 255}
    np.testing.assert_array_equal(crack.mask(), square(1))
    good = ds.test[2]
    assert good.mask_paths == [] and good.mask().shape == (8, 8) and not good.mask().any()


def test_category_folder_and_dataset_root_give_the_same_dataset(tmp_path):
    cat = make_mvtec_ad(tmp_path, "widget")
    a, b, c = open_dataset(tmp_path, "widget"), open_dataset(cat), open_dataset(cat, "widget")
    assert a.train == b.train == c.train
    assert [s.path for s in a.test] == [s.path for s in b.test] == [s.path for s in c.test]
    assert detect_layout(tmp_path, "widget") == detect_layout(cat) == "mvtec_ad"


def test_images_sorted_by_plain_name(tmp_path):
    cat = make_mvtec_ad(tmp_path, n_train=0, defects={"crack": 1})
    for name in ("2.png", "10.png", "001.png", "B.png", "a.png"):
        save_png(cat / "train" / "good" / name, normal_image(0))
    assert _names(open_dataset(cat).train) == ["001.png", "10.png", "2.png", "B.png", "a.png"]


def test_all_accepted_extensions_are_read_in_any_case(tmp_path):
    cat = make_mvtec_ad(tmp_path, n_train=0, defects={"crack": 1})
    formats = {"a.JPG": "JPEG", "b.jpeg": "JPEG", "c.BMP": "BMP", "d.tif": "TIFF", "e.TIFF": "TIFF",
               "f.webp": "WEBP", "g.Png": "PNG"}
    for name, fmt in formats.items():
        save_image_as(cat / "train" / "good" / name, normal_image(0), fmt)
    assert _names(open_dataset(cat).train) == sorted(formats)


def test_known_junk_is_ignored(tmp_path):
    cat = make_mvtec_ad(tmp_path)
    for name in (".DS_Store", "Thumbs.db", "._000.png", "desktop.ini"):
        (cat / "test" / "good" / name).write_bytes(b"junk")
    assert len(open_dataset(cat).test) == 5


def test_mask_named_like_its_image_is_accepted(tmp_path):
    cat = make_mvtec_ad(tmp_path, defects={"crack": 1})
    gt = cat / "ground_truth" / "crack"
    (gt / "000_mask.png").rename(gt / "000.png")
    assert open_dataset(cat).test[0].mask_paths == [gt / "000.png"]


def test_anomaly_without_mask_names_the_expected_mask(tmp_path):
    cat = make_mvtec_ad(tmp_path)
    expected = cat / "ground_truth" / "crack" / "001_mask.png"
    expected.unlink()
    with pytest.raises(DatasetError, match=re.escape(f"its mask {expected} is missing")):
        open_dataset(cat)


def test_missing_ground_truth_folder_names_the_expected_mask(tmp_path):
    cat = make_mvtec_ad(tmp_path)
    shutil.rmtree(cat / "ground_truth" / "scratch")
    with pytest.raises(DatasetError, match=re.escape(str(cat / "ground_truth" / "scratch" / "000_mask.png"))):
        open_dataset(cat)


def test_missing_train_good(tmp_path):
    cat = make_mvtec_ad(tmp_path)
    shutil.rmtree(cat / "train" / "good")
    with pytest.raises(DatasetError, match=re.escape(f"{cat / 'train' / 'good'}: missing")):
        open_dataset(cat)


def test_empty_train_good(tmp_path):
    cat = make_mvtec_ad(tmp_path, n_train=0)
    (cat / "train" / "good").mkdir(parents=True)
    (cat / "train" / "good" / ".DS_Store").write_bytes(b"")
    with pytest.raises(DatasetError, match=re.escape(f"{cat / 'train' / 'good'}: holds no images")):
        open_dataset(cat)


def test_missing_test_good(tmp_path):
    cat = make_mvtec_ad(tmp_path, n_good=0)
    with pytest.raises(DatasetError, match=re.escape(f"{cat / 'test' / 'good'}: missing")):
        open_dataset(cat)


def test_test_with_only_good_is_truncated(tmp_path):
    cat = make_mvtec_ad(tmp_path, defects={})
    (cat / "ground_truth").mkdir()
    with pytest.raises(DatasetError, match="holds only good/"):
        open_dataset(cat)


def test_unreadable_image_is_named_unless_validation_is_off(tmp_path):
    cat = make_mvtec_ad(tmp_path)
    broken = cat / "test" / "crack" / "000.png"
    broken.write_bytes(b"this is not a png")
    with pytest.raises(DatasetError, match=re.escape(f"{broken}: unreadable image")):
        open_dataset(cat)
    assert broken in [s.path for s in open_dataset(cat, validate=False).test]


def test_truncated_png_is_named(tmp_path):
    cat = make_mvtec_ad(tmp_path, size=(32, 32))
    cut = cat / "train" / "good" / "001.png"
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=re.escape(f"{cut}: unreadable image")):
        open_dataset(cat)


def test_broken_mask_is_named(tmp_path):
    cat = make_mvtec_ad(tmp_path)
    mask = cat / "ground_truth" / "scratch" / "000_mask.png"
    mask.write_bytes(b"")
    with pytest.raises(DatasetError, match=re.escape(f"{mask}: unreadable image")):
        open_dataset(cat)


@pytest.mark.parametrize("name", ["notes.txt", "photo.gif", "000.png.bak"])
def test_other_files_in_image_folders_are_refused_not_skipped(tmp_path, name):
    cat = make_mvtec_ad(tmp_path)
    stray = cat / "test" / "good" / name
    stray.write_bytes(b"x")
    with pytest.raises(DatasetError, match=re.escape(f"{stray}: not an image file")):
        open_dataset(cat)


def test_two_images_with_one_name_are_refused(tmp_path):
    cat = make_mvtec_ad(tmp_path)
    save_image_as(cat / "train" / "good" / "001.jpg", normal_image(1), "JPEG")
    with pytest.raises(DatasetError, match="two images share the name '001'"):
        open_dataset(cat)


def test_folder_inside_an_image_folder_is_refused(tmp_path):
    cat = make_mvtec_ad(tmp_path)
    save_png(cat / "train" / "good" / "more" / "000.png", normal_image(0))
    with pytest.raises(DatasetError, match=re.escape(f"{cat / 'train' / 'good' / 'more'}: unexpected folder")):
        open_dataset(cat)


def test_image_loose_in_test_is_refused(tmp_path):
    cat = make_mvtec_ad(tmp_path)
    loose = save_png(cat / "test" / "loose.png", normal_image(0))
    with pytest.raises(DatasetError, match=re.escape(f"{loose}: image directly in")):
        open_dataset(cat)


# --- MVTec LOCO -------------------------------------------------------------------------------


def test_loco_kinds_defects_and_raw_mask_values(tmp_path):
    cat = make_mvtec_loco(tmp_path, "box", instances=2)
    ds = open_dataset(tmp_path, "box")
    assert (ds.layout, len(ds.train), _names(ds.validation)) == ("mvtec_loco", 3, ["000.png"])
    assert [(s.defect_type, s.kind, s.label) for s in ds.test] == [
        ("good", None, 0), ("good", None, 0),
        ("logical_anomalies", "logical", 1), ("logical_anomalies", "logical", 1),
        ("structural_anomalies", "structural", 1),
    ]
    assert ds.defects == {
        37: DefectSpec("missing_part", 37, 1.0, True),
        91: DefectSpec("scratch", 91, 20.0, False),
    }
    logical = ds.test[3]
    assert _names(logical.mask_paths) == ["000.png", "001.png"]
    assert all(p.parent == cat / "ground_truth" / "logical_anomalies" / "001" for p in logical.mask_paths)
    assert [set(np.unique(m).tolist()) for m in logical.masks()] == [{0, 37}, {0, 37}]
    np.testing.assert_array_equal(logical.mask(), square(1) | square(2))
    assert set(np.unique(ds.test[4].masks()[0]).tolist()) == {0, 91}
    assert ds.has_kinds and ds.has_masks


def test_loco_builder_writes_given_images_and_masks(tmp_path):
    rng = np.random.default_rng(0)
    photos = {key: [rng.integers(0, 256, (12, 16, 3), dtype=np.uint8) for _ in range(n)]
              for key, n in {"train": 2, "validation": 1, "good": 1, "logical_anomalies": 1,
                             "structural_anomalies": 2}.items()}
    region = np.zeros((12, 16), dtype=bool)
    region[2:5, 3:9] = True
    cat = make_mvtec_loco(tmp_path, images=photos, masks=lambda key, i, shape: [(region, 91)])
    ds = open_dataset(cat)
    assert (len(ds.train), len(ds.validation), len(ds.test)) == (2, 1, 4)
    np.testing.assert_array_equal(load_image(ds.train[1]), photos["train"][1])
    np.testing.assert_array_equal(ds.test[-1].image(), photos["structural_anomalies"][1])
    np.testing.assert_array_equal(ds.test[-1].mask(), region)


def test_loco_ground_truth_for_good_images_is_not_read(tmp_path):
    cat = make_mvtec_loco(tmp_path)
    save_png(cat / "ground_truth" / "good" / "000" / "000.png", np.zeros((8, 8), np.uint8))
    good = open_dataset(cat).test[0]
    assert good.label == 0 and good.mask_paths == []


def test_loco_pixel_value_not_in_config_is_named_at_mask_load(tmp_path):
    cat = make_mvtec_loco(tmp_path)
    bad = cat / "ground_truth" / "structural_anomalies" / "000" / "000.png"
    save_png(bad, square(0).astype(np.uint8) * 99)
    sample = open_dataset(cat).test[-1]
    with pytest.raises(DatasetError, match=re.escape(f"{bad}: pixel value 99 is not listed in "
                                                     f"{cat / 'defects_config.json'} (listed: 37, 91)")):
        sample.masks()


def test_loco_missing_config(tmp_path):
    cat = make_mvtec_loco(tmp_path)
    (cat / "defects_config.json").unlink()
    assert detect_layout(cat) == "mvtec_loco"
    with pytest.raises(DatasetError, match=re.escape(f"{cat / 'defects_config.json'}: missing")):
        open_dataset(cat)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("{not json", "not valid JSON"),
        ('{"defect_name": "x"}', "not a non-empty list"),
        ("[]", "not a non-empty list"),
        ('[{"defect_name": "x", "pixel_value": 3}]', "entry 0 lacks saturation_threshold, relative_saturation"),
        ('[{"defect_name": "x", "pixel_value": 0, "saturation_threshold": 1, "relative_saturation": true}]',
         "entry 0 (x): pixel_value must be an integer from 1 to 255, got 0"),
        ('[{"defect_name": "x", "pixel_value": 5, "saturation_threshold": 1, "relative_saturation": "yes"}]',
         "entry 0 (x): relative_saturation must be true or false"),
        ('[{"defect_name": "x", "pixel_value": 5, "saturation_threshold": 1, "relative_saturation": true},'
         ' {"defect_name": "y", "pixel_value": 5, "saturation_threshold": 2, "relative_saturation": false}]',
         "pixel_value 5 is used by both x and y"),
    ],
)
def test_loco_malformed_config(tmp_path, text, problem):
    config = tmp_path / "defects_config.json"
    config.write_text(text)
    with pytest.raises(DatasetError, match=re.escape(f"{config}: {problem}")):
        read_defects_config(config)


def test_loco_config_keeps_absolute_thresholds(tmp_path):
    config = tmp_path / "defects_config.json"
    config.write_text(json.dumps([{"defect_name": "extra_item", "pixel_value": 255,
                                   "saturation_threshold": 3000, "relative_saturation": False}]))
    assert read_defects_config(config) == {255: DefectSpec("extra_item", 255, 3000.0, False)}


def test_loco_anomaly_without_mask_folder(tmp_path):
    cat = make_mvtec_loco(tmp_path)
    missing = cat / "ground_truth" / "logical_anomalies" / "001"
    shutil.rmtree(missing)
    with pytest.raises(DatasetError, match=re.escape(f"its mask folder {missing} is missing")):
        open_dataset(cat)


def test_loco_empty_mask_folder(tmp_path):
    cat = make_mvtec_loco(tmp_path)
    folder = cat / "ground_truth" / "structural_anomalies" / "000"
    shutil.rmtree(folder)
    folder.mkdir()
    with pytest.raises(DatasetError, match=re.escape(f"{folder}: holds no images")):
        open_dataset(cat)


def test_loco_unexpected_test_folder(tmp_path):
    cat = make_mvtec_loco(tmp_path)
    save_png(cat / "test" / "other" / "000.png", normal_image(0))
    with pytest.raises(DatasetError, match=re.escape(f"{cat / 'test' / 'other'}: unexpected test folder")):
        open_dataset(cat)


# --- VisA -------------------------------------------------------------------------------------


def test_visa_reads_the_split_csv(tmp_path):
    root = make_visa(tmp_path / "VisA", ("candle", "pcb1"))
    ds = open_dataset(root, "candle")
    assert (ds.layout, ds.category, ds.root) == ("visa", "candle", root / "candle")
    assert _names(ds.train) == ["0000.JPG", "0001.JPG", "0002.JPG"]
    assert [(s.defect_type, s.path.name, s.label) for s in ds.test] == [
        ("anomaly", "000.JPG", 1), ("anomaly", "001.JPG", 1), ("good", "0003.JPG", 0), ("good", "0004.JPG", 0),
    ]
    anomaly = ds.test[1]
    assert anomaly.mask_paths == [root / "candle" / "Data" / "Masks" / "Anomaly" / "001.png"]
    assert set(np.unique(anomaly.masks()[0]).tolist()) == {0, 1}
    np.testing.assert_array_equal(anomaly.mask(), square(1))
    assert open_dataset(root / "pcb1").category == "pcb1"
    assert detect_layout(root / "pcb1") == detect_layout(root, "candle") == "visa"


def test_visa_unknown_object_lists_the_objects(tmp_path):
    root = make_visa(tmp_path, ("candle", "pcb1"))
    expected = f"{root}: no category 'cashew'; categories present: candle, pcb1"
    with pytest.raises(DatasetError, match=re.escape(expected)):
        open_dataset(root, "cashew")


def test_visa_without_category_lists_the_objects(tmp_path):
    root = make_visa(tmp_path, ("candle", "pcb1"))
    with pytest.raises(DatasetError, match="holding categories candle, pcb1"):
        open_dataset(root)


def test_visa_csv_without_mask_column(tmp_path):
    root = make_visa(tmp_path)
    csv_path = root / "split_csv" / "1cls.csv"
    csv_path.write_text("\n".join(",".join(line.split(",")[:4]) for line in csv_path.read_text().splitlines()))
    with pytest.raises(DatasetError, match=re.escape(f"{csv_path}: lacks column(s) mask")):
        open_dataset(root, "candle")


def test_visa_missing_image_names_path_and_line(tmp_path):
    root = make_visa(tmp_path)
    gone = root / "candle" / "Data" / "Images" / "Anomaly" / "001.JPG"
    gone.unlink()
    expected = f"{gone}: missing (listed in {root / 'split_csv' / '1cls.csv'}, line 8)"
    with pytest.raises(DatasetError, match=re.escape(expected)):
        open_dataset(root, "candle")


def test_visa_unknown_label(tmp_path):
    root = make_visa(tmp_path)
    csv_path = root / "split_csv" / "1cls.csv"
    csv_path.write_text(csv_path.read_text().replace("test,anomaly", "test,defective", 1))
    with pytest.raises(DatasetError, match="label 'defective' is neither normal nor anomaly"):
        open_dataset(root, "candle")


# --- VID-AD -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "category, expected",
    [
        ("Fruits", ("Fruits", "white_bg")),
        ("Fruits_Cable_BG", ("Fruits", "cable_bg")),
        ("Tools_Mesh_BG", ("Tools", "mesh_bg")),
        ("Balls_Blurry_CD", ("Balls", "blurry")),
        ("Stationery_Low-light_CD", ("Stationery", "low_light")),
        ("Ropes_low-light_cd", ("Ropes", "low_light")),
    ],
)
def test_vid_ad_condition(category, expected):
    assert vid_ad_condition(category) == expected


def test_vid_ad_image_level_logical_anomalies(tmp_path):
    cat = make_vid_ad(tmp_path, "Fruits", "cable_bg", violations={"": 1, "Single-Aspect-A": 1, "Dual-Aspects": 2})
    ds = open_dataset(tmp_path, "Fruits_Cable_BG")
    assert (ds.layout, ds.category, ds.root) == ("vid_ad", "Fruits_Cable_BG", cat)
    assert vid_ad_condition(ds.category) == ("Fruits", "cable_bg")
    assert [(s.defect_type, s.image_id, s.kind, s.label) for s in ds.test] == [
        ("good", "000", None, 0), ("good", "001", None, 0),
        ("logical_anomalies", "000", "logical", 1),
        ("logical_anomalies/Dual-Aspects", "000", "logical", 1),
        ("logical_anomalies/Dual-Aspects", "001", "logical", 1),
        ("logical_anomalies/Single-Aspect-A", "000", "logical", 1),
    ]
    assert not ds.has_masks and ds.has_kinds
    assert ds.test[3].mask_paths == [] and ds.test[3].mask().shape == (8, 8) and not ds.test[3].mask().any()


def test_vid_ad_unexpected_test_folder(tmp_path):
    cat = make_vid_ad(tmp_path)
    save_png(cat / "test" / "broken" / "000.png", normal_image(0))
    with pytest.raises(DatasetError, match=re.escape(f"{cat / 'test' / 'broken'}: unexpected test folder")):
        open_dataset(cat)


# --- plain folders ----------------------------------------------------------------------------


def test_flat_folder_is_normal_training_images(tmp_path):
    folder = make_image_folder(tmp_path, "mine", train=3)
    ds = open_dataset(folder)
    assert (ds.layout, ds.category, ds.test) == ("folder", "mine", [])
    assert _names(ds.train) == ["000.png", "001.png", "002.png"]


def test_flat_folder_refuses_other_files(tmp_path):
    folder = make_image_folder(tmp_path, "mine", train=2)
    (folder / "clip.gif").write_bytes(b"GIF89a")
    with pytest.raises(DatasetError, match=re.escape(f"{folder / 'clip.gif'}: not an image file")):
        open_dataset(folder)


def test_class_folders_are_a_test_set(tmp_path):
    for cls, n in {"good": 2, "dent": 1}.items():
        for i in range(n):
            save_png(tmp_path / "parts" / cls / f"{i}.png", normal_image(i))
    ds = open_dataset(tmp_path / "parts")
    assert ds.train == [] and [(s.defect_type, s.label) for s in ds.test] == [("dent", 1), ("good", 0), ("good", 0)]
    assert not ds.has_masks


def test_split_folders(tmp_path):
    folder = make_image_folder(tmp_path, "mine", train=2, classes={"good": 1, "dent": 2})
    save_png(folder / "validation" / "good" / "000.png", normal_image(0))
    (folder / "README.txt").write_text("my parts")
    ds = open_dataset(folder)
    assert ds.layout == "folder" and (len(ds.train), len(ds.validation)) == (2, 1)
    assert [(s.defect_type, s.label) for s in ds.test] == [("dent", 1), ("dent", 1), ("good", 0)]


def test_split_folder_unexpected_folder(tmp_path):
    folder = make_image_folder(tmp_path, "mine", train=2, classes={"good": 1, "dent": 2})
    save_png(folder / "extra" / "000.png", normal_image(0))
    with pytest.raises(DatasetError, match=re.escape(f"{folder / 'extra'}: unexpected folder")):
        open_dataset(folder)


def test_split_folder_test_images_need_a_class(tmp_path):
    folder = make_image_folder(tmp_path, "mine", train=2, classes={"good": 1})
    loose = save_png(folder / "test" / "x.png", normal_image(0))
    with pytest.raises(DatasetError, match=re.escape(f"{loose}: test images need a class folder")):
        open_dataset(folder)


def test_images_beside_class_folders_are_refused(tmp_path):
    save_png(tmp_path / "parts" / "good" / "0.png", normal_image(0))
    save_png(tmp_path / "parts" / "loose.png", normal_image(1))
    with pytest.raises(DatasetError, match="holds both images and class folders"):
        open_dataset(tmp_path / "parts")


def test_mvtec_tree_without_masks_reads_as_folder_when_asked(tmp_path):
    cat = make_mvtec_ad(tmp_path)
    shutil.rmtree(cat / "ground_truth")
    with pytest.raises(DatasetError, match="layout='folder'"):
        open_dataset(cat)
    ds = open_dataset(cat, layout="folder")
    assert (len(ds.train), sum(s.label for s in ds.test), ds.has_masks) == (3, 3, False)


# --- detection and registry -------------------------------------------------------------------

BUILDERS = {
    "mvtec_ad": lambda root: make_mvtec_ad(root, "widget"),
    "mvtec_loco": lambda root: make_mvtec_loco(root, "box"),
    "visa": lambda root: make_visa(root, ("candle",)) / "candle",
    "vid_ad": lambda root: make_vid_ad(root, "Tapes", "low_light"),
    "folder": lambda root: make_image_folder(root, "mine", train=2, classes={"good": 1, "dent": 1}),
}


def test_every_registered_layout_has_a_builder():
    assert sorted(BUILDERS) == LAYOUTS.available()


@pytest.mark.parametrize("layout", sorted(BUILDERS))
def test_layout_is_detected_and_read_both_ways(tmp_path, layout):
    cat = BUILDERS[layout](tmp_path)
    assert detect_layout(cat) == layout == detect_layout(cat.parent, cat.name)
    auto, explicit = open_dataset(cat), open_dataset(cat.parent, cat.name, layout=layout)
    assert auto.layout == explicit.layout == layout and auto.train == explicit.train
    assert len(auto.test) > 0 and {s.label for s in auto.test} == {0, 1}


def test_unrecognised_folder_lists_every_layout_and_its_needs(tmp_path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("x")
    with pytest.raises(DatasetError) as info:
        open_dataset(tmp_path / "stuff")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'stuff'}: layout not recognised")
    for name in LAYOUTS:
        assert f"{name}: needs {LAYOUTS.get(name).needs}" in message


def test_dataset_root_without_category_lists_categories(tmp_path):
    make_mvtec_ad(tmp_path, "bottle")
    make_mvtec_ad(tmp_path, "cable")
    expected = f"{tmp_path}: is a dataset root holding categories bottle, cable"
    with pytest.raises(DatasetError, match=re.escape(expected)):
        open_dataset(tmp_path)


def test_missing_category_lists_categories(tmp_path):
    make_mvtec_ad(tmp_path, "bottle")
    make_mvtec_loco(tmp_path, "juice_bottle")
    for layout in ("auto", "mvtec_ad"):
        expected = f"{tmp_path}: no category 'screw'; categories present: bottle"
        with pytest.raises(DatasetError, match=re.escape(expected)):
            open_dataset(tmp_path, "screw", layout=layout)
    with pytest.raises(DatasetError, match="categories present: bottle, juice_bottle"):
        open_dataset(tmp_path, "screw")


def test_missing_root_and_file_root(tmp_path):
    with pytest.raises(DatasetError, match=re.escape(f"{tmp_path / 'nope'}: no such folder")):
        open_dataset(tmp_path / "nope")
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(DatasetError, match="is a file, not a dataset folder"):
        detect_layout(tmp_path / "file.png")


def test_unknown_layout_name_suggests_a_near_one(tmp_path):
    cat = make_mvtec_ad(tmp_path)
    with pytest.raises(DatasetError, match="unknown layout 'mvtec'.*Did you mean 'mvtec_ad'"):
        open_dataset(cat, layout="mvtec")


def test_explicit_layout_reports_what_that_layout_lacks(tmp_path):
    cat = make_vid_ad(tmp_path)
    with pytest.raises(DatasetError, match=re.escape(f"{cat / 'defects_config.json'}: missing")):
        open_dataset(cat, layout="mvtec_loco")


def test_summary_counts(tmp_path):
    cat = make_mvtec_loco(tmp_path, "box")
    assert open_dataset(cat).summary() == "mvtec_loco box: 3 train, 1 validation, 5 test (2 good, 3 anomalous)"


def test_images_load_as_rgb(tmp_path):
    cat = make_mvtec_ad(tmp_path)
    image = open_dataset(cat).test[0].image()
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8
    assert Image.open(open_dataset(cat).test[0].path).size == (8, 8)

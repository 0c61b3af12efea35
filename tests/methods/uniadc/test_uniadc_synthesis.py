import json

import cv2
import numpy as np
import pytest

from methods.uniadc.__main__ import main
from methods.uniadc.inpaint import dark_stroke, diffusion_arguments, read_description, repaint, synthesize
from methods.uniadc.prior import Category


def photo(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.integers(90, 170, (128, 128, 3)).astype(np.uint8), (0, 0), 2)
    return img


def test_description_picks_operator_colour_and_tone():
    assert read_description("A red stain") == read_description("a RED stain")
    look = read_description("A red stain")
    assert (look.operator, look.colour) == ("stain", (165, 30, 30))
    assert read_description("A dark crack across the tool").operator == "line"
    assert read_description("A dark crack across the tool").tone == -1
    assert read_description("Thin scratches").tone == 1  # a scratch catches light unless told otherwise
    assert read_description("Thin scratches, lighter or darker than the surface").tone == 0  # either, per candidate
    assert read_description("A dark or black hole").tone == -1  # both dark: no choice
    assert read_description("Foreign matter on the pill").operator == "foreign"
    assert read_description("A small dark hole").operator == "hole"
    assert read_description("A bent, dented stick").operator == "deform"
    assert read_description("A chunk missing from the edge of the block").operator == "missing"


def test_a_list_of_colours_is_a_choice_and_modifiers_shade_them():
    look = read_description("An oval stain on the block, brown, gray or dark blue")
    assert look.colours == ((105, 65, 35), (120, 120, 120), (24, 42, 99))  # dark blue: 0.6 × (40, 70, 165)
    assert look.colour == look.colours[0]
    assert read_description("A light red stain").colour == (210, 142, 142)  # halfway to white
    # One colour, or a colour that names the object rather than the defect: no choice.
    assert read_description("A brown stain on the green tape").colours == ()
    assert read_description("A brown stain on the green tape").colour == (105, 65, 35)


def test_colour_choice_varies_between_candidates():
    cat = Category(description="A stain, red or blue", shape="Ellipse", size="Large")
    hues = set()
    for seed in range(6):
        made = synthesize(photo(), cat, np.random.default_rng(seed), n_candidates=1)
        r, _, b = made.image[made.mask].mean(axis=0)
        hues.add("red" if r > b else "blue")
    assert hues == {"red", "blue"}


def test_missing_material_shows_the_backdrop_next_to_it():
    # Two backdrops: a dark strip on the left, light (most of the image) on the right.
    img = np.full((64, 64, 3), 200, np.uint8)
    img[:, :16] = 30
    foreground = np.zeros((64, 64), bool)
    foreground[20:44, 10:54] = True
    img[foreground] = (180, 40, 40)
    mask = np.zeros((64, 64), bool)
    mask[24:34, 12:20] = True  # on the part, near its dark-backdrop end
    out = repaint(img, mask, read_description("Material missing"), np.random.default_rng(0), foreground)
    assert out[mask].mean() < 60


@pytest.mark.parametrize("description", ["A red stain", "Thin bright scratches", "A dark hole", "A dent",
                                         "A bent part", "Foreign matter", "Missing material"])
def test_repaint_changes_only_the_mask(description):
    img = photo()
    mask = np.zeros((128, 128), bool)
    cv2.ellipse(mask.view(np.uint8), (64, 64), (20, 8), 30, 0, 360, 1, -1)
    out = repaint(img, mask, read_description(description), np.random.default_rng(0))
    assert (out[~mask] == img[~mask]).all()
    assert np.abs(out[mask].astype(int) - img[mask]).mean() > 3


def test_synthesize_is_deterministic_and_selects_the_named_colour():
    cat = Category(description="A blue stain", shape="Ellipse", size="Medium")
    a = synthesize(photo(), cat, np.random.default_rng(1))
    b = synthesize(photo(), cat, np.random.default_rng(1))
    assert (a.image == b.image).all() and (a.mask == b.mask).all() and a.score == b.score
    region = a.image[a.mask].mean(axis=0)
    assert region[2] > region[0] + 10


def test_full_tier_runs_ten_ddim_steps_at_the_noise_factor():
    kw = diffusion_arguments("a scratch", 0.5, 4, (512, 512))
    assert int(kw["num_inference_steps"] * kw["strength"]) == 10
    assert kw["num_images_per_prompt"] == 4 and kw["prompt"] == "a scratch"


def test_cli_writes_mvtec_layout_and_record(tmp_path, capsys):
    (tmp_path / "imgs").mkdir()
    cv2.imwrite(str(tmp_path / "imgs" / "a.png"), photo())
    prior = tmp_path / "p.yaml"
    prior.write_text("name: t\ncategories:\n  stain:\n    description: A brown stain\n    size: Small\n")
    assert main(["synthesize", "--prior", str(prior), "--images", str(tmp_path / "imgs"),
                 "--out", str(tmp_path / "out"), "--n", "2"]) == 0
    mask = cv2.imread(str(tmp_path / "out" / "ground_truth" / "stain" / "001_mask.png"), cv2.IMREAD_GRAYSCALE)
    assert mask.shape == (128, 128) and mask.max() == 255
    record = json.loads((tmp_path / "out" / "synthesis.json").read_text())
    assert [i["category"] for i in record["items"]] == ["stain", "stain"]
    assert record["items"][0]["size"] == "Small"


def test_cli_refuses_bad_input(tmp_path, capsys):
    prior = tmp_path / "p.yaml"
    prior.write_text("name: t\ncategories:\n  s:\n    description: ''\n")
    (tmp_path / "empty").mkdir()
    assert main(["synthesize", "--prior", str(prior), "--images", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "description is empty" in capsys.readouterr().err
    prior.write_text("name: t\ncategories:\n  s:\n    description: x\n")
    assert main(["synthesize", "--prior", str(prior), "--images", str(tmp_path / "empty"), "--out", "o"]) == 2
    assert "no images" in capsys.readouterr().err
    assert main(["synthesize", "--prior", str(prior), "--images", str(tmp_path), "--out", "o", "--n", "5000"]) == 2
    assert "1 to 1000" in capsys.readouterr().err


def test_a_line_of_either_tone_mostly_contrasts_with_its_surface():
    either = read_description("Thin scratches, lighter or darker than the surface")
    words = ("thin", "scratches")
    for surface, dark_share in ((220.0, 0.8), (50.0, 0.2)):
        share = np.mean([dark_stroke(either, words, surface, np.random.default_rng(s)) for s in range(400)])
        assert abs(share - dark_share) < 0.06
    rng = np.random.default_rng(0)
    assert not dark_stroke(read_description("Bright scratches"), ("bright", "scratches"), 220.0, rng)
    assert dark_stroke(read_description("A crack"), ("a", "crack"), 50.0, rng)


def test_a_bite_shows_the_backdrop_inside_a_darker_rim_of_material():
    img = np.full((64, 64, 3), 200, np.uint8)
    foreground = np.zeros((64, 64), bool)
    foreground[20:44, 8:56] = True
    img[foreground] = (180, 40, 40)
    yy, xx = np.mgrid[:64, :64]
    mask = ((yy - 20) ** 2 + (xx - 32) ** 2 < 8**2) & foreground  # a half disc out of the top edge
    out = repaint(img, mask, read_description("A bite-shaped notch missing from the edge"), np.random.default_rng(0),
                  foreground).astype(int)
    assert np.abs(out[20:23, 29:36] - 200).max() < 12  # the gap: backdrop, no dark outline
    rim = mask & cv2.dilate((foreground & ~mask).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    material = out[rim][out[rim][:, 1] < 100]  # rim pixels still showing the part, not the backdrop
    assert len(material) > 0.6 * rim.sum() and (material[:, 0] < 178).all()  # pressed darker than 180

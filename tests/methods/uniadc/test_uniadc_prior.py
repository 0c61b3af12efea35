from pathlib import Path

import pytest

from methods.uniadc.prior import PriorError, dump_prior, load_prior, parse_prior

PRIORS = Path(__file__).resolve().parents[3] / "examples" / "priors"


@pytest.mark.parametrize("path", sorted(PRIORS.glob("*.yaml")), ids=lambda p: p.stem)
def test_example_priors_round_trip(path):
    prior = load_prior(path)
    again = parse_prior(dump_prior(prior))
    assert again == prior
    assert dump_prior(again) == dump_prior(prior)


def test_examples_cover_real_textures_and_ten_scenarios():
    names = {p.stem for p in PRIORS.glob("*.yaml")}
    assert "real-textures" in names
    assert len([n for n in names if n.startswith("synthetic-logic-")]) == 10
    assert set(load_prior(PRIORS / "real-textures.yaml").categories) == {"scratch", "hole", "stain", "foreign_texture"}


def test_shape_aliases_lists_and_unknown():
    prior = parse_prior("name: x\ncategories:\n  a:\n    description: hole\n    shape: hollow_ellipse, Line\n"
                        "  b:\n    description: thing\n")
    assert prior.categories["a"].shape == ["Hollow Ellipse", "Line"]
    assert prior.categories["b"].shape == ["unknown"] and len(prior.categories["b"].shapes()) == 8


def test_typo_in_shape_suggests_and_names_line():
    with pytest.raises(PriorError, match=r"<prior>:5: .*unknown shape 'Elipse'. Did you mean 'Ellipse'\?.*Allowed"):
        parse_prior("name: x\ncategories:\n  a:\n    description: hi\n    shape: Elipse\n")


def test_unknown_field_and_empty_description_name_their_lines():
    text = "name: x\ncategories:\n  a:\n    description: hi\n    colour: red\n  b:\n    description: '  '\n"
    with pytest.raises(PriorError) as err:
        parse_prior(text)
    message = str(err.value)
    assert "<prior>:5: categories.a.colour: unknown field 'colour'" in message
    assert "<prior>:7: categories.b.description: description is empty" in message


def test_bad_size_and_no_categories_are_refused():
    with pytest.raises(PriorError, match="unknown size 'Huge'"):
        parse_prior("name: x\ncategories:\n  a:\n    description: hi\n    size: Huge\n")
    with pytest.raises(PriorError, match="at least one category"):
        parse_prior("name: x\ncategories: {}\n")

"""The bundled example categories: which suite holds them and the config a method is fitted with."""
from dataclasses import dataclass

import pytest

import methods
from leaderboard import examples
from methods.reference import PixelZScore


def test_each_bundled_category_belongs_to_one_example_suite():
    assert examples.example_suite("brick") == "real-textures"
    assert examples.example_suite("Fruits") == "synthetic-logic"
    with pytest.raises(ValueError, match="bundled: brick"):
        examples.example_suite("Brick")


def test_a_method_with_a_prior_gets_the_categorys_example_prior_and_others_the_defaults(monkeypatch):
    @dataclass
    class WithPrior:
        prior: str = ""

    class Prior(PixelZScore):
        Config = WithPrior

    registered = methods.get
    monkeypatch.setattr(methods, "get", lambda name: Prior if name == "examples_test_prior" else registered(name))
    assert examples.example_config("patchcore", "brick") == {}
    assert examples.example_config("examples_test_prior", "Fruits")["prior"].endswith("synthetic-logic-fruits.yaml")
    assert examples.example_config("examples_test_prior", "gravel")["prior"].endswith("priors/real-textures.yaml")


def test_the_cache_tag_changes_when_a_named_file_or_the_methods_code_changes(tmp_path, monkeypatch):
    prior = tmp_path / "prior.yaml"
    prior.write_text("name: a\n")
    first = examples._cache_tag("pixel_zscore", {"prior": str(prior)})
    prior.write_text("name: b\n")
    assert first.startswith("-") and examples._cache_tag("pixel_zscore", {"prior": str(prior)}) != first
    assert examples._cache_tag("pixel_zscore", {}) != examples._cache_tag("histogram_knn", {"bins": 4})

    files = examples._code_files("uniad")
    assert {p.parent.name for p in files[:-2]} == {"uniad"} and len(files) > 3
    assert [p.name for p in files[-2:]] == ["base.py", "backbone.py"]
    code = tmp_path / "model.py"
    code.write_text("x = 1\n")
    monkeypatch.setattr(examples, "_code_files", lambda method: [code])
    before = examples._cache_tag("uniad", {})
    code.write_text("x = 2\n")
    assert examples._cache_tag("uniad", {}) != before

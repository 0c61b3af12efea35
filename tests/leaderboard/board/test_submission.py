"""Submissions: only registered, well-named, pinned things get in, and only SubmissionError comes out."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import methods
from board_fixtures import SUITE, TEST_METHODS, tiny
from leaderboard import suites
from leaderboard.board.submission import SubmissionError, parse

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "submissions"
COMMIT = "a" * 40


def errors_of(data) -> dict[str, str]:
    with pytest.raises(SubmissionError) as info:
        parse(data)
    return dict(info.value.errors)


@pytest.mark.parametrize("name", [m for m in methods.available() if m not in TEST_METHODS])
def test_every_registered_method_has_a_valid_example(name):
    path = EXAMPLES / f"{name}.yaml"
    assert path.is_file(), f"no example submission for {name}"
    spec = yaml.safe_load(path.read_text())
    missing = [s["name"] for s in spec["suites"] if s["name"] not in suites.available()]
    if missing:
        pytest.skip(f"suites {missing} are not registered yet")
    sub = parse(path.read_text())
    assert sub.method == name


def test_every_example_submission_parses():
    for path in sorted(EXAMPLES.glob("*.yaml")):
        sub = parse(path.read_text())
        assert sub.method in methods.available(), path.name


def test_valid_submission_resolves_defaults_and_pins_model():
    sub = parse(tiny(config={"bins": 4}, model={"repo_id": "org/weights", "revision": COMMIT}))
    assert sub.config == {"bins": 4, "image_size": 128}
    assert sub.model.revision == COMMIT


def test_unknown_method_is_named_with_a_suggestion():
    errs = errors_of(tiny(method="histogram_kn"))
    assert "histogram_kn" in errs["method"] and "Did you mean 'histogram_knn'" in errs["method"]


def test_unknown_suite_is_named():
    errs = errors_of({**tiny(), "suites": [{"name": "no-such-suite"}]})
    assert "no-such-suite" in errs["suites.0.name"]


def test_unknown_config_key_is_named_with_a_suggestion():
    errs = errors_of(tiny(config={"binz": 4}))
    assert "'binz'" in errs["config"] and "Did you mean 'bins'" in errs["config"]


def test_bad_config_value_and_unknown_category_are_reported_together():
    errs = errors_of({**tiny(config={"bins": "many"}), "suites": [{"name": SUITE, "categories": ["delta"]}]})
    assert "bins" in errs["config"]
    assert "delta" in errs["suites.0.categories"]


def test_unknown_top_level_field_is_refused():
    errs = errors_of(tiny(code="import os; os.system('rm -rf /')"))
    assert "code" in errs


@pytest.mark.parametrize("revision", ["main", "v1.0", "A" * 40, "a" * 39, "a" * 41, "refs/pr/1"])
def test_revision_must_be_a_commit_hash(revision):
    errs = errors_of(tiny(model={"repo_id": "org/weights", "revision": revision}))
    assert "commit hash" in errs["model.revision"]


@pytest.mark.parametrize("field, value, where", [
    ("method", "../methods/evil", "method"),
    ("submitter", "alice/../../root", "submitter"),
    ("submitter", "/etc", "submitter"),
    ("display_name", "../../etc/passwd", "display_name"),
    ("suites", [{"name": "../board-tiny"}], "suites.0.name"),
    ("suites", [{"name": SUITE, "categories": ["../../alpha"]}], "suites.0.categories"),
    ("suites", [{"name": SUITE, "categories": ["alpha/.."]}], "suites.0.categories"),
    ("config", {"bins": 4, "image_size": "/etc/shadow"}, "config"),
    ("model", {"repo_id": "../org", "revision": COMMIT}, "model.repo_id"),
])
def test_path_traversal_is_refused(field, value, where):
    errs = errors_of({**tiny(), field: value})
    assert any(k.startswith(where) for k in errs), errs


def test_content_hash_ignores_who_and_display_name_and_order():
    a = parse({**tiny(), "suites": [{"name": SUITE, "categories": ["beta", "alpha"]}]})
    b = parse({**tiny(config={"bins": 8}), "display_name": "other", "submitter": "bob",
               "suites": [{"name": SUITE, "categories": ["alpha", "beta"]}]})
    c = parse({**tiny(config={"bins": 4}), "suites": [{"name": SUITE, "categories": ["alpha", "beta"]}]})
    assert a.content_hash == b.content_hash
    assert a.content_hash != c.content_hash


def test_yaml_text_and_broken_yaml():
    assert parse(yaml.safe_dump(tiny())).method == "histogram_knn"
    assert "(file)" in errors_of("method: [unclosed")
    assert "(top)" in errors_of("- a list\n- not a mapping\n")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
_fields = st.sampled_from(["display_name", "submitter", "method", "config", "suites", "model", "extra"])
_near_valid = st.builds(
    lambda base, edits: {**base, **edits},
    st.just(tiny()),
    st.dictionaries(_fields, _json | st.just([{"name": SUITE, "categories": ["alpha"]}]), max_size=3),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), st.binary(max_size=100), _json, _near_valid))
def test_fuzzed_input_raises_only_submission_error(data):
    try:
        parse(data)
    except SubmissionError as exc:
        assert exc.errors and all(isinstance(f, str) and isinstance(m, str) for f, m in exc.errors)


def test_evaluation_options_travel_in_the_config_beside_the_method_keys():
    sub = parse(tiny(config={"bins": 4, "anomaly_shots": 1}))
    assert sub.config == {"bins": 4, "image_size": 128, "anomaly_shots": 1}
    assert sub.content_hash != parse(tiny(config={"bins": 4})).content_hash


@pytest.mark.parametrize("config, expected", [
    ({"anomaly_shots": 0}, "anomaly_shots must be an integer ≥ 1, got 0"),
    ({"anomaly_shots": "one"}, "anomaly_shots must be an integer ≥ 1, got 'one'"),
    ({"split": "logic"}, "split must be one of logical, structural, got 'logic'"),
])
def test_bad_evaluation_options_are_named(config, expected):
    assert expected in errors_of(tiny(config=config))["config"]


def test_a_split_needs_a_suite_with_logical_and_structural_kinds():
    errs = errors_of(tiny(config={"split": "structural"}))
    assert "needs logical/structural test kinds" in errs["suites.0.name"] and SUITE in errs["suites.0.name"]
    assert suites.get("synthetic-logic").has_kinds and not suites.get("real-textures").has_kinds

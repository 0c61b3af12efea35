"""The rule file: parsing, helpful errors, round trip, and no code execution."""
from pathlib import Path

import pytest

from methods.logsad import rules as rulefile
from methods.logsad.rules import RuleFileError

EXAMPLE = """\
version: 1
category: Fruits
interests:
- name: orange disc
  description: an orange
  colour_lab: [62.0, 38.0, 58.0]
  area: 0.018
  elongation: 1.0
  extent: 0.79
  solidity: 0.98
  radius: 10.0
- name: brown oval
  colour_lab: [42.0, 8.0, 22.0]
  area: 0.014
  elongation: 1.4
  extent: 0.78
  solidity: 0.97
  radius: 10.0
rules:
- {kind: count, interest: orange disc, range: [3, 3]}
- {kind: count, interest: unknown, range: [0, 0]}
- {kind: size, interest: brown oval, measure: area, range: [0.01, 0.02]}
- {kind: ratio, numerator: orange disc, denominator: brown oval, measure: area, range: [1.5, 2.5]}
- {kind: pairing, if_present: orange disc, then: brown oval, property: present}
- {kind: order, axis: x, sequence: [orange disc, brown oval]}
- {kind: region, interest: orange disc, box: [0.0, 0.0, 1.0, 0.5], note: top half}
"""


def test_example_parses_into_every_rule_kind():
    rf = rulefile.loads(EXAMPLE)
    assert [r.kind for r in rf.rules] == ["count", "count", "size", "ratio", "pairing", "order", "region"]
    assert rf.interest_names() == ["orange disc", "brown oval"]
    assert rf.rules[-1].note == "top half"


def test_round_trip_is_identical(tmp_path):
    rf = rulefile.loads(EXAMPLE)
    path = rulefile.dump(rf, tmp_path / "r.yaml")
    again = rulefile.load(path)
    assert again == rf
    assert rulefile.dumps(again) == rulefile.dumps(rf)


def test_any_colour_round_trips_and_is_written_only_when_set():
    rf = rulefile.loads(EXAMPLE)
    assert "any_colour" not in rulefile.dumps(rf)
    shapes = rf.model_copy(update={"interests": [rf.interests[0].model_copy(update={"any_colour": True}),
                                                 rf.interests[1]]})
    text = rulefile.dumps(shapes)
    assert text.count("any_colour: true") == 1
    assert rulefile.loads(text) == shapes


def test_readme_examples_are_valid_and_show_every_rule_kind():
    readme = (Path(__file__).parents[3] / "methods" / "logsad" / "README.md").read_text()
    blocks = [part.split("```", 1)[0] for part in readme.split("```yaml\n")[1:]]
    files = [rulefile.loads(b) for b in blocks if b.startswith("version:")]
    assert len(files) >= 2
    assert {r.kind for rf in files for r in rf.rules} == set(rulefile.RULE_KINDS)


def test_syntax_error_names_the_line():
    bad = EXAMPLE.replace("  area: 0.018", "  area: [0.018")
    with pytest.raises(RuleFileError, match=r"syntax error at line \d+"):
        rulefile.loads(bad)


def test_unknown_field_names_line_field_and_suggestion():
    bad = EXAMPLE.replace("  elongation: 1.0\n", "  elongaton: 1.0\n", 1)
    with pytest.raises(RuleFileError) as exc:
        rulefile.loads(bad)
    msg = str(exc.value)
    assert "line 8" in msg and "interests.0.elongaton" in msg and "did you mean 'elongation'" in msg


def test_unknown_rule_kind_gets_a_suggestion():
    bad = EXAMPLE.replace("{kind: count, interest: orange disc", "{kind: cuont, interest: orange disc")
    with pytest.raises(RuleFileError, match=r"line 20: rules.0: unknown rule kind 'cuont'; did you mean 'count'"):
        rulefile.loads(bad)


def test_unknown_interest_name_gets_a_suggestion():
    bad = EXAMPLE.replace("sequence: [orange disc, brown oval]", "sequence: [orange disc, brown ovals]")
    with pytest.raises(RuleFileError, match=r"unknown interest 'brown ovals'\. Did you mean 'brown oval'\?"):
        rulefile.loads(bad)


def test_empty_range_and_box_are_refused_with_their_line():
    with pytest.raises(RuleFileError, match=r"line 20: rules\.0.*count range \[3, 2\] is empty"):
        rulefile.loads(EXAMPLE.replace("range: [3, 3]", "range: [3, 2]"))
    with pytest.raises(RuleFileError, match="region box .* is empty"):
        rulefile.loads(EXAMPLE.replace("box: [0.0, 0.0, 1.0, 0.5]", "box: [0.6, 0.0, 0.5, 0.5]"))


def test_wrong_type_is_named():
    with pytest.raises(RuleFileError, match=r"interests\.0\.area"):
        rulefile.loads(EXAMPLE.replace("area: 0.018", "area: lots"))


def test_reserved_and_duplicate_names():
    with pytest.raises(RuleFileError, match="reserved"):
        rulefile.loads(EXAMPLE.replace("- name: brown oval", "- name: unknown").replace("brown oval", "unknown"))
    with pytest.raises(RuleFileError, match="unique"):
        rulefile.loads(EXAMPLE.replace("- name: brown oval", "- name: orange disc"))


def test_no_code_execution_and_no_top_level_list():
    with pytest.raises(RuleFileError, match="syntax error"):
        rulefile.loads("interests: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(RuleFileError, match="line 1: expected a mapping"):
        rulefile.loads("- 1\n- 2\n")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(RuleFileError, match="no such rule file"):
        rulefile.load(tmp_path / "nope.yaml")

"""Each rule kind on hand-made components, calibration, fusion and Hungarian matching."""
import numpy as np
import pytest

from methods.logsad.calibration import Calibrator, fuse, sigmoid
from methods.logsad.composition import check_all, histogram, histogram_distance
from methods.logsad.interest_matching import set_cost
from methods.logsad.rules import (
    CountRule, Interest, OrderRule, PairingRule, RatioRule, RegionRule, RuleFile, SizeRule,
)
from methods.logsad.segmentation import Component


def comp(interest: int, cx: float, cy: float, length: float = 0.1, area: float = 0.01, box=None) -> Component:
    mask = np.zeros((64, 64), bool)
    if box is not None:
        x0, y0, x1, y1 = box
        mask[y0:y1, x0:x1] = True
    return Component(mask=mask, colour=np.zeros(3, np.float32), area=area, length=length, width=0.02, solidity=1.0,
                     extent=1.0, holes=0, cx=cx, cy=cy, interest=interest)


def interest(name: str) -> Interest:
    return Interest(name=name, colour_lab=(50, 0, 0), area=0.01, elongation=1.0, extent=1.0, solidity=1.0, radius=5)


def rule_file(*rules) -> RuleFile:
    return RuleFile(interests=[interest("a"), interest("b"), interest("tray")], rules=list(rules))


def results(rules, comps):
    return check_all(rule_file(*rules), comps)


def test_count_rule_and_unknown():
    r = CountRule(interest="a", range=(2, 2))
    assert results([r], [comp(0, .1, .1), comp(0, .2, .2)])[0].holds
    broken = results([r], [comp(0, .1, .1), comp(0, .2, .2), comp(0, .3, .3)])[0]
    assert not broken.holds and broken.excess == 1 and broken.text == "count(a) = 3, normal 2"
    assert broken.offenders == [0, 1, 2] and broken.score == 1.0
    unknown = results([CountRule(interest="unknown", range=(0, 0))], [comp(-1, .5, .5)])[0]
    assert not unknown.holds and unknown.offenders == [0]


def test_size_rule_flags_the_component():
    r = SizeRule(interest="a", measure="length", range=(0.09, 0.11))
    res = results([r], [comp(0, .1, .1, length=0.1), comp(0, .5, .5, length=0.05)])[0]
    assert not res.holds and res.offenders == [1] and res.excess == pytest.approx(0.8)


def test_ratio_rule():
    r = RatioRule(numerator="a", denominator="b", measure="length", range=(0.9, 1.1))
    assert results([r], [comp(0, .1, .1, length=.2), comp(1, .5, .5, length=.2)])[0].holds
    res = results([r], [comp(0, .1, .1, length=.4), comp(1, .5, .5, length=.2)])[0]
    assert not res.holds and "= 2" in res.text
    assert results([r], [comp(1, .5, .5)])[0].holds  # a missing side is for the count rules


def test_pairing_present_and_inside():
    present = PairingRule(if_present="a", then="b", property="present")
    assert results([present], [comp(0, .1, .1), comp(1, .5, .5)])[0].holds
    assert not results([present], [comp(0, .1, .1)])[0].holds
    assert results([present], [comp(1, .1, .1)])[0].holds
    inside = PairingRule(if_present="a", then="tray", property="inside")
    tray = comp(2, .25, .25, box=(0, 0, 32, 32))
    assert results([inside], [comp(0, .2, .2), tray])[0].holds
    res = results([inside], [comp(0, .8, .8), tray])[0]
    assert not res.holds and res.offenders == [0]


def test_order_rule():
    r = OrderRule(axis="x", sequence=["a", "b"])
    assert results([r], [comp(0, .1, .5), comp(1, .9, .5)])[0].holds
    res = results([r], [comp(0, .9, .5), comp(1, .1, .5)])[0]
    assert not res.holds and res.text.startswith("left-to-right order a < b: 1 inversions")
    assert results([OrderRule(axis="y", sequence=["a", "b"])], [comp(0, .5, .1), comp(1, .5, .9)])[0].holds


def test_region_rule():
    r = RegionRule(interest="a", box=(0.0, 0.0, 0.5, 0.5))
    assert results([r], [comp(0, .2, .2)])[0].holds
    res = results([r], [comp(0, .2, .2), comp(0, .8, .2)])[0]
    assert not res.holds and res.offenders == [1] and res.excess == pytest.approx(6.0)


def test_histogram_and_distance():
    h = histogram([comp(0, 0, 0), comp(0, 0, 0), comp(-1, 0, 0)], 2)
    assert h.tolist() == [2, 0, 1]
    assert histogram_distance(h, np.array([[2, 0, 1], [1, 1, 0]], np.float32)) == 0
    assert histogram_distance(h, np.array([[1, 1, 0]], np.float32)) == 3


def test_calibration_is_zscore_then_sigmoid():
    cal = Calibrator.fit([1.0, 2.0, 3.0])
    assert cal.mean == 2.0 and cal.std == pytest.approx(1.0)  # unbiased (ddof=1)
    assert cal(2.0) == pytest.approx(0.5)
    assert cal(3.0) == pytest.approx(sigmoid(1.0))
    assert cal(1e9) < 1.0  # a broken rule (1.0) always outranks a calibrated score
    single = Calibrator.fit([4.0], floor=0.01)
    assert single.std == pytest.approx(0.4)  # one normal: σ floored at a tenth of μ
    many = Calibrator.fit([4.0, 4.1, 3.9, 4.0, 4.05, 3.95])
    assert many.std == pytest.approx(np.std([4.0, 4.1, 3.9, 4.0, 4.05, 3.95], ddof=1))  # enough normals: measured σ
    with pytest.raises(ValueError):
        Calibrator.fit([])


def test_fusion_takes_the_maximum_and_names_it():
    assert fuse({"patch": 0.3, "interest": 0.7, "rules": 0.0}) == (0.7, "interest")
    assert fuse({"patch": 0.99, "rules": 1.0}) == (1.0, "rules")
    assert fuse({"rules": 0.9, "patch": 0.9}) == (0.9, "rules")  # a tie goes to the first
    with pytest.raises(ValueError):
        fuse({})


def test_hungarian_set_cost():
    p = np.eye(3, dtype=np.float32)
    assert set_cost(p, p[[2, 0, 1]])[0] == pytest.approx(0.0, abs=1e-6)  # order does not matter
    cost, rows = set_cost(p, p[:2])  # one part missing from the normal: unmatched
    assert cost == pytest.approx(1 / 3) and sorted(rows.tolist()) == pytest.approx([0, 0, 1])
    assert set_cost(p[:0], p[:0])[0] == 0.0
    assert set_cost(p, p[:0])[0] == 1.0

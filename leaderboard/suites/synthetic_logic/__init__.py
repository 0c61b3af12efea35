"""Procedural VID-AD: the paper's ten logical scenarios as MVTec LOCO tasks with structural defects too.

    from leaderboard.suites.synthetic_logic import SCENARIOS, generate
    generate("data/vid_ad_synth", seed=0, size=256)

Each scenario (Table 2 of VID-AD) has a one-line rule over two aspects; logical
anomalies break the first, the second or both in Table 3's proportions, structural
anomalies put a scratch, hole, stain, crack or dent on one object. Normal images vary
in position, angle, size, colour, light, table and camera so that the rule, not
the pixels, separates normal from anomalous.
"""
from .layout import DEFAULT_COUNTS, PIXEL_VALUES, SPLITS, defects_config, generate, logical_plan, scenes, write_index
from .render import Rendered, render_scene
from .scenarios import SCENARIOS
from .scene import ASPECTS, STRUCTURAL_DEFECTS, Item, Scenario, Scene, Violation, compose

__all__ = [
    "ASPECTS", "DEFAULT_COUNTS", "PIXEL_VALUES", "SCENARIOS", "SPLITS", "STRUCTURAL_DEFECTS",
    "Item", "Rendered", "Scenario", "Scene", "Violation",
    "compose", "defects_config", "generate", "logical_plan", "render_scene", "scenes", "write_index",
]

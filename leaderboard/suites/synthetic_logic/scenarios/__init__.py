"""The ten VID-AD scenarios, in the paper's order (Table 2)."""
from __future__ import annotations

from ..scene import Scenario
from .balls import Balls
from .blocks import Blocks
from .cookies import Cookies
from .dishes import Dishes
from .fruits import Fruits
from .ropes import Ropes
from .stationery import Stationery
from .sticks import Sticks
from .tapes import Tapes
from .tools import Tools

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (Sticks(), Fruits(), Tools(), Cookies(), Tapes(), Stationery(), Ropes(), Blocks(), Dishes(), Balls())
}

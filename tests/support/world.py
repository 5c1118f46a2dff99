"""The issuing-ready world the tests share: built by skillshub.demo (the benchmarks use it too)."""

from skillshub.demo import BATTERY_SKILL, World, make_world

__all__ = ["BATTERY_SKILL", "World", "make_world"]

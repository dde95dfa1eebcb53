"""The charts' geometry: bar lengths against the longest, spreads against the largest
p90, and the heat table's levels."""

from __future__ import annotations

from nurture.web.ui.charts import HEAT_LEVELS, bars, columns, heat_level, range_bars


def test_the_longest_bar_fills_the_axis_and_the_others_are_in_proportion():
    drawn = bars([("a", 40.0, "40"), ("b", 10.0, "10"), ("c", 0.0, "0"), ("d", None, "—")])
    assert [bar.length for bar in drawn] == [100.0, 25.0, 0.0, 0.0]
    assert [bar.figure for bar in drawn] == ["40", "10", "0", "—"]


def test_a_tiny_value_stays_visible_and_nothing_at_all_draws_no_bar():
    drawn = bars([("big", 100_000.0, ""), ("tiny", 1.0, "")])
    assert drawn[1].length == 0.6
    assert [bar.length for bar in bars([("none", 0.0, "")])] == [0.0]
    assert bars([]) == []


def test_spreads_share_one_axis_set_by_the_largest_figure():
    rows = range_bars(
        [("mql", 2.0, 4.0, 10.0, ""), ("sal", 1.0, None, None, ""), ("x", None, None, None, "")]
    )
    assert (rows[0].median, rows[0].p75, rows[0].p90) == (20.0, 40.0, 100.0)
    assert (rows[1].median, rows[1].p75, rows[1].p90) == (10.0, None, None)
    assert (rows[2].median, rows[2].p75, rows[2].p90) == (None, None, None)


def test_columns_scale_to_the_highest_point():
    assert [c.height for c in columns([("jan", 5.0, ""), ("feb", 20.0, "")])] == [25.0, 100.0]


def test_heat_levels_rise_in_equal_steps_and_any_share_shows():
    assert heat_level(None) == 0
    assert heat_level(0.0) == 0
    assert heat_level(0.001) == 1
    assert heat_level(0.2) == 1
    assert heat_level(0.4) == 2  # exactly on a step, despite 0.4 / 0.2 > 2 in floating point
    assert heat_level(0.41) == 3
    assert heat_level(1.0) == HEAT_LEVELS - 1
    assert heat_level(1.7) == HEAT_LEVELS - 1

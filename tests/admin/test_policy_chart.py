"""The simulation chart: one bar per rule that changed, left of zero when citizens pay less."""

import pytest

from admin.policy.chart import LABEL_WIDTH, WIDTH, impact_chart


def test_bars_grow_left_for_savings_and_right_for_increases_from_one_zero_line():
    chart = impact_chart({"per_rule": [{"rule_id": "A", "delta": -300}, {"rule_id": "B", "delta": 100},
                                       {"rule_id": "C", "delta": 0}]})
    saving, increase = chart.bars
    assert [bar.label for bar in chart.bars] == ["A", "B"], "rules that changed nothing get no bar"
    assert saving.x + saving.width == pytest.approx(chart.zero_x) and increase.x == chart.zero_x
    assert saving.width == pytest.approx(3 * increase.width)
    assert LABEL_WIDTH <= saving.x and increase.x + increase.width <= WIDTH


def test_no_change_means_no_chart():
    assert impact_chart({"per_rule": []}) is None
    assert impact_chart({"per_rule": [{"rule_id": "A", "delta": 0}]}) is None

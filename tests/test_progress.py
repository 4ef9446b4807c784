"""The progress method of DESIGN.md: every target kind, both directions, every status boundary."""

import pytest

from metrics import progress
from metrics.catalog import Target

SRC = {"document": None, "clause": None, "quote_zh": None}


def target(kind="threshold", **kw) -> Target:
    kw.setdefault("target_period", "2025Q4")
    return Target(id="t", plan="p", indicator="i", kind=kind, source=SRC, **kw)


def quarters(first_year=2021, n=20):
    return [f"{first_year + i // 4}Q{i % 4 + 1}" for i in range(n)]


def test_expected_linear_halfway():
    # base 2020Q4 -> 2025Q4 is 20 quarters; 2023Q2 is 10 of them
    assert progress.expected_linear(50, 75, "2020Q4", "2023Q2", "2025Q4") == pytest.approx(62.5)


def test_expected_milestones_finished_years_plus_pro_rata():
    m = {2022: 946, 2023: 642, 2024: 642, 2025: 963}
    assert progress.expected_milestones(m, "2022Q4") == pytest.approx(946)
    assert progress.expected_milestones(m, "2024Q2") == pytest.approx(946 + 642 + 642 / 2)
    assert progress.expected_milestones(m, "2021Q3") == 0


def test_expected_schedule_interpolates_between_dates():
    s = {"2021Q4": 30, "2022Q4": 70, "2023Q4": 100}
    assert progress.expected_schedule(s, "2020Q4", "2021Q4") == 30
    assert progress.expected_schedule(s, "2020Q4", "2022Q2") == pytest.approx(50)
    assert progress.expected_schedule(s, "2020Q4", "2024Q1") == 100


@pytest.mark.parametrize(
    "value, status",
    [
        (75.0, "achieved"),       # meets g
        (62.5, "on_track"),       # p = 1
        (61.875, "on_track"),     # p = 0.95 exactly
        (61.8, "accelerate"),     # p just under 0.95
        (57.5, "accelerate"),     # p = 0.60
        (57.4, "off_track"),
        (50.0, "off_track"),      # p = 0
        (49.9, "regressing"),     # further from g than b was
    ],
)
def test_threshold_status_boundaries_higher(value, status):
    t = target(target_value=75, baseline_value=50, baseline_period="2020Q4")
    # a single point: no projection can rescue a lagging value
    a = progress.assess(t, "higher", [("2023Q2", value)], "2023Q2", "2020Q4")
    assert a.status == status
    assert a.expected == pytest.approx(62.5)
    if status != "achieved":
        assert "too_few_points" in a.notes


@pytest.mark.parametrize(
    "value, status",
    [(10.0, "achieved"), (15.0, "on_track"), (16.9, "accelerate"), (19.0, "off_track"), (20.0, "off_track"),
     (21.0, "regressing")],
)
def test_threshold_status_lower_is_better(value, status):
    # from 20 down to 10: expected at halfway 15
    t = target(target_value=10, baseline_value=20, baseline_period="2020Q4")
    a = progress.assess(t, "lower", [("2023Q2", value)], "2023Q2", "2020Q4")
    assert a.status == status


def test_progress_ratio_value():
    t = target(target_value=75, baseline_value=50, baseline_period="2020Q4")
    a = progress.assess(t, "higher", [("2023Q2", 56.25)], "2023Q2", "2020Q4")
    assert a.progress == pytest.approx(0.5)


def test_projection_rescues_lagging_indicator():
    # behind the straight line now (p ~ 0.8) but the last 8 quarters' trend reaches 75 by 2025Q4
    series = [(q, 50 + 2.2 * max(0, i - 6)) for i, q in enumerate(quarters(2021, 14))]
    t = target(target_value=75, baseline_value=50, baseline_period="2020Q4")
    a = progress.assess(t, "higher", series, "2024Q2", "2020Q4")
    assert a.projection is not None and a.projection >= 75
    assert a.status == "on_track"
    assert "projection_meets_target" in a.notes


def test_projection_least_squares():
    series = [("2024Q1", 10.0), ("2024Q2", 12.0), ("2024Q3", 14.0)]
    assert progress.linear_projection(series, "2024Q3", "2025Q4") == pytest.approx(14 + 2 * 5)
    assert progress.linear_projection(series[:2], "2024Q3", "2025Q4") is None


def test_projection_uses_only_last_eight_quarters():
    old = [(q, 0.0) for q in quarters(2021, 8)]
    recent = [(q, 10.0 + i) for i, q in enumerate(quarters(2023, 8))]
    proj = progress.linear_projection(old + recent, "2024Q4", "2025Q4")
    assert proj == pytest.approx(17 + 4)


def test_rate_within_half_point_of_100_counts_as_met():
    t = target(target_value=100, baseline_value=80, baseline_period="2020Q4")
    assert progress.assess(t, "higher", [("2023Q2", 99.5)], "2023Q2", "2020Q4", percent=True).status == "achieved"
    assert progress.assess(t, "higher", [("2023Q2", 99.4)], "2023Q2", "2020Q4", percent=True).status != "achieved"
    # as the reader sees it: 99.45 is shown as 99.5 with one decimal
    assert progress.assess(t, "higher", [("2023Q2", 99.45)], "2023Q2", "2020Q4", percent=True,
                           decimals=1).status == "achieved"


def test_milestones_cumulative_against_expected():
    m = {2022: 946, 2023: 642, 2024: 642, 2025: 963}
    t = target("milestones", milestones=m)
    flows = [(q, 946 / 4) for q in quarters(2022, 4)] + [(q, 642 / 4) for q in quarters(2023, 4)]
    flows += [("2024Q1", 100.0), ("2024Q2", 100.0)]
    a = progress.assess(t, "higher", flows, "2024Q2", "2020Q4")
    assert a.value == pytest.approx(946 + 642 + 200)
    assert a.expected == pytest.approx(946 + 642 + 321)
    assert a.progress == pytest.approx(1788 / 1909)
    assert a.target == 3193
    # flows before the first milestone year do not count
    a2 = progress.assess(t, "higher", [("2021Q4", 500.0)] + flows, "2024Q2", "2020Q4")
    assert a2.value == pytest.approx(a.value)


def test_milestones_achieved_when_total_reached():
    t = target("milestones", milestones={2022: 10, 2023: 10}, target_period="2023Q4")
    a = progress.assess(t, "higher", [("2022Q2", 15.0), ("2022Q3", 6.0)], "2022Q3", "2020Q4")
    assert a.status == "achieved"
    assert t.final_value == 20


def test_schedule_progress_is_actual_over_expected():
    t = target("schedule", schedule={"2021Q4": 30, "2022Q4": 70, "2023Q4": 100}, target_period="2023Q4")
    a = progress.assess(t, "higher", [("2022Q2", 40.0)], "2022Q2", "2020Q4")
    assert a.expected == pytest.approx(50)
    assert a.progress == pytest.approx(0.8)
    assert a.status == "accelerate"


def test_relative_target_compares_with_benchmark_at_t():
    t = target("relative", benchmark="bench", comparison="ge")
    bench = [("2023Q2", 7.0), ("2024Q2", 6.5)]
    ok = progress.assess(t, "higher", [("2023Q2", 6.0), ("2024Q2", 7.1)], "2024Q2", "2020Q4", benchmark=bench)
    assert ok.status == "achieved" and ok.expected == 6.5 and ok.target == 6.5
    behind = progress.assess(t, "higher", [("2023Q2", 6.0), ("2024Q2", 6.2)], "2024Q2", "2020Q4", benchmark=bench)
    assert behind.status != "achieved"
    # no value at the base 2020Q4: the base moves to 2023Q2 (6.0 vs 7.0, a gap of 1.0); 0.7 of it
    # is closed now (6.2 vs 6.5) against 4 of 10 quarters elapsed
    assert behind.base_period == "2023Q2"
    assert behind.progress == pytest.approx(0.7 / 0.4)
    assert behind.status == "on_track" and behind.margin == pytest.approx(6.2 - 6.5)
    fell_behind = progress.assess(t, "higher", [("2023Q2", 7.5), ("2024Q2", 6.0)], "2024Q2", "2020Q4",
                                  benchmark=bench)
    assert fell_behind.status == "not_met"      # no gap at the base: met or not met, p undefined
    assert fell_behind.progress is None
    none = progress.assess(t, "higher", [("2024Q2", 7.0)], "2024Q2", "2020Q4", benchmark=[])
    assert none.status == "no_data"


def test_strict_comparison_gt():
    t = target(target_value=8, comparison="gt", target_period="2021Q4")
    assert progress.assess(t, "higher", [("2021Q4", 8.0)], "2021Q4", "2020Q4").status == "not_met"
    assert progress.assess(t, "higher", [("2021Q4", 8.1)], "2021Q4", "2020Q4").status == "met"


def test_status_is_final_after_target_period_and_judged_at_target():
    t = target(target_value=75, baseline_value=50, baseline_period="2020Q4")
    series = [("2025Q4", 74.0), ("2026Q2", 80.0)]
    a = progress.assess(t, "higher", series, "2026Q2", "2020Q4")
    assert a.final and a.status == "not_met" and a.value == 74.0
    b = progress.assess(t, "higher", [("2025Q4", 76.0)], "2026Q2", "2020Q4")
    assert b.status == "met"


def test_no_value_is_no_data():
    t = target(target_value=75, baseline_value=50, baseline_period="2020Q4")
    assert progress.assess(t, "higher", [("2023Q1", 60.0)], "2023Q2", "2020Q4").status == "no_data"


def test_baseline_defaults_to_first_observed_value():
    t = target(target_value=90)
    a = progress.assess(t, "higher", [("2021Q2", 60.0), ("2023Q2", 70.0)], "2023Q2", "2020Q4")
    assert a.baseline == 60.0


def test_reason_names_strict_relative_and_falls_back_to_the_status():
    from metrics import reasons
    t = target("relative", benchmark="bench", comparison="gt")
    a = progress.assess(t, "higher", [("2024Q2", 7.1)], "2024Q2", "2020Q4", benchmark=[("2024Q2", 6.5)], decimals=1)
    assert a.status == "achieved" and reasons.reason_text(a, "zh") == "高于基准 6.5（差 +0.6）"
    assert reasons.reason_text(progress.Assessment("no_data"), "en") == "No data"

"""Engine tests: the percentile sketch, statistics, metric math, the AlarmRule language and the
evaluation of one alarm, called directly."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventyard.protocol.errors import AwsError
from eventyard.runtime.metric_store import Aggregate
from eventyard.runtime.sketch import RELATIVE_ACCURACY, Sketch
from eventyard.services.cloudwatch import alarm_rule
from eventyard.services.cloudwatch.evaluation import Datapoint, Definition, evaluate
from eventyard.services.cloudwatch.math_eval import Evaluator, Series
from eventyard.services.cloudwatch.math_parser import ExpressionError, parse
from eventyard.services.cloudwatch.statistics import parse_extended, statistic_value
from eventyard.services.cloudwatch.wording import java_double

T0 = 1_700_000_040.0  # a minute boundary


# -- the sketch ------------------------------------------------------------------------------------
def _exact_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=1e-6, max_value=1e9, allow_nan=False), min_size=1, max_size=300),
       st.sampled_from([0.0, 0.1, 0.5, 0.9, 0.99, 1.0]))
def test_percentiles_are_within_the_sketchs_relative_accuracy(values: list[float], q: float) -> None:
    sketch = Sketch()
    for value in values:
        sketch.add(value)
    estimate = sketch.quantile(q)
    exact = _exact_quantile(values, q)
    assert estimate is not None
    assert abs(estimate - exact) <= RELATIVE_ACCURACY * exact * (1 + 1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=100),
       st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=100))
def test_merged_sketches_answer_what_one_sketch_of_all_values_answers(first: list[float], second: list[float]) -> None:
    a, b, whole = Sketch(), Sketch(), Sketch()
    for value in first:
        a.add(value)
        whole.add(value)
    for value in second:
        b.add(value)
        whole.add(value)
    a.merge(b)
    restored = Sketch.from_json(json.loads(json.dumps(a.to_json())))
    for q in (0.0, 0.25, 0.5, 0.75, 0.99, 1.0):
        assert restored.quantile(q) == whole.quantile(q)


def test_a_statistic_set_has_percentiles_only_when_its_values_must_all_be_equal() -> None:
    uniform, spread = Aggregate(), Aggregate()
    uniform.add_statistic_set(4, 20.0, 5.0, 5.0)
    spread.add_statistic_set(4, 20.0, 1.0, 9.0)
    assert statistic_value(uniform, "p90") == pytest.approx(5.0, rel=RELATIVE_ACCURACY)
    assert statistic_value(spread, "p90") is None
    assert statistic_value(spread, "Average") == 5.0 and statistic_value(spread, "Maximum") == 9.0


def test_extended_statistics_follow_cloudwatchs_definitions() -> None:
    aggregate = Aggregate()
    for value in range(1, 101):
        aggregate.add(float(value))
    assert statistic_value(aggregate, "p50") == pytest.approx(50, rel=0.02)
    assert statistic_value(aggregate, "tm90") == pytest.approx(45.5, rel=0.02)  # mean of the lowest 90 %
    assert statistic_value(aggregate, "TM(10%:90%)") == pytest.approx(50.5, rel=0.03)
    assert statistic_value(aggregate, "tc90") == pytest.approx(90, abs=2)
    assert statistic_value(aggregate, "PR(:50)") == pytest.approx(50, abs=2)
    assert statistic_value(aggregate, "IQM") == pytest.approx(50.5, rel=0.03)
    assert statistic_value(aggregate, "TS(0:10)") == pytest.approx(55, rel=0.02)
    for bad in ("p101", "TM(10%:90)", "PR(10%:20%)", "tmx", "TM(:)"):
        assert parse_extended(bad) is None


# -- metric math ------------------------------------------------------------------------------------
GRID = [T0 + 60 * k for k in range(5)]


def _series(id_: str, values: dict[int, float]) -> Series:
    return Series(id_, id_, {GRID[k]: v for k, v in values.items()}, 60)


def _run(expression: str, **series: Series) -> object:
    metrics = list(series.values())
    return Evaluator(GRID, 60, dict(series), metrics).evaluate(parse(expression))


def test_arithmetic_between_series_keeps_the_timestamps_both_have() -> None:
    m1, m2 = _series("m1", {0: 1, 1: 2, 2: 3}), _series("m2", {1: 10, 2: 20, 3: 30})
    result = _run("(m1 + m2) * 2 - 1", m1=m1, m2=m2)
    assert isinstance(result, Series)
    assert result.points == {GRID[1]: 23.0, GRID[2]: 45.0}
    assert _run("2 ^ 3 + -1") == 7.0


def test_division_by_zero_drops_the_point() -> None:
    m1, m2 = _series("m1", {0: 1, 1: 2}), _series("m2", {0: 0, 1: 4})
    result = _run("m1 / m2", m1=m1, m2=m2)
    assert isinstance(result, Series) and result.points == {GRID[1]: 0.5}


def test_functions_of_one_series_are_scalars_and_of_an_array_are_series() -> None:
    m1, m2 = _series("m1", {0: 1, 1: 3}), _series("m2", {0: 10, 2: 30})
    assert _run("SUM(m1)", m1=m1, m2=m2) == 4.0
    assert _run("AVG(m1)", m1=m1, m2=m2) == 2.0
    total = _run("SUM(METRICS())", m1=m1, m2=m2)
    assert isinstance(total, Series) and total.points == {GRID[0]: 11.0, GRID[1]: 3.0, GRID[2]: 30.0}
    largest = _run("MAX([m1, m2])", m1=m1, m2=m2)
    assert isinstance(largest, Series) and largest.points == {GRID[0]: 10.0, GRID[1]: 3.0, GRID[2]: 30.0}
    assert _run("MIN(m2)", m1=m1, m2=m2) == 10.0
    assert len(_run("METRICS('m2')", m1=m1, m2=m2)) == 1  # type: ignore[arg-type]


def test_fill_rate_diff_and_if() -> None:
    m1 = _series("m1", {0: 10, 2: 40, 4: 100})
    filled = _run("FILL(m1, 0)", m1=m1)
    assert isinstance(filled, Series) and filled.points == dict(zip(GRID, [10.0, 0.0, 40.0, 0.0, 100.0], strict=True))
    repeated = _run("FILL(m1, REPEAT)", m1=m1)
    assert isinstance(repeated, Series) and repeated.points[GRID[1]] == 10.0
    linear = _run("FILL(m1, LINEAR)", m1=m1)
    assert isinstance(linear, Series) and linear.points[GRID[1]] == 25.0
    rate = _run("RATE(m1)", m1=m1)
    assert isinstance(rate, Series) and rate.points == {GRID[2]: 30 / 120, GRID[4]: 60 / 120}
    diff = _run("DIFF(m1)", m1=m1)
    assert isinstance(diff, Series) and diff.points == {GRID[2]: 30.0, GRID[4]: 60.0}
    chosen = _run("IF(m1 > 20, 1, 0)", m1=m1)
    assert isinstance(chosen, Series) and list(chosen.points.values()) == [0.0, 1.0, 1.0]
    kept = _run("IF(m1 >= 40 AND m1 < 100, m1)", m1=m1)
    assert isinstance(kept, Series) and kept.points == {GRID[2]: 40.0}


def test_bad_expressions_are_reported() -> None:
    for bad in ("m1 +", "SUM(", "NOPE(m1)", "m9", "", "m1 $ 2"):
        with pytest.raises(ExpressionError):
            _run(bad, m1=_series("m1", {0: 1}))


# -- AlarmRule --------------------------------------------------------------------------------------
def test_alarm_rules_combine_states_with_and_or_not() -> None:
    states = {"cpu": "ALARM", "disk": "OK", "deploy in progress": "INSUFFICIENT_DATA"}

    def holds(text: str) -> bool:
        return alarm_rule.evaluate(alarm_rule.parse(text), lambda name: states.get(name.split(":alarm:")[-1]))

    assert holds("ALARM(cpu) AND OK(disk)")
    assert not holds("ALARM(cpu) AND NOT OK(disk)")
    assert holds('ALARM(disk) OR INSUFFICIENT_DATA("deploy in progress")')
    assert holds("(ALARM(disk) OR ALARM(cpu)) AND TRUE")
    assert not holds("FALSE")
    assert holds("ALARM(arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu)")
    assert not holds("ALARM(missing)")
    assert alarm_rule.children(alarm_rule.parse("ALARM(a) OR (OK(b) AND NOT ALARM(a))")) == ["a", "b"]
    for bad in ("ALARM(a) AND", "ALARM a", "WARN(a)", "ALARM(a) OK(b)", "(ALARM(a)"):
        with pytest.raises(AwsError):
            alarm_rule.parse(bad)


# -- one evaluation ---------------------------------------------------------------------------------
def _definition(**overrides: object) -> Definition:
    values: dict[str, object] = {"period": 60, "evaluation_periods": 3, "datapoints_to_alarm": None, "threshold": 1.0,
                                 "comparison": "GreaterThanThreshold", "statistic": "Average"}
    values.update(overrides)
    return Definition(**values)  # type: ignore[arg-type]


def _points(*values: float | None) -> list[Datapoint]:
    """Datapoints of the last periods, oldest first; None is a missing period."""
    start = T0 - 60 * len(values)
    return [Datapoint(start + 60 * i, v, 1.0) for i, v in enumerate(values) if v is not None]


def test_enough_datapoints_decide_whatever_missing_data_is_treated_as() -> None:
    for treat in ("missing", "ignore", "breaching", "notBreaching"):
        outcome = evaluate(_definition(treat_missing=treat), "OK", _points(0, 5, 5, None, 5), T0)
        assert outcome is not None and outcome.state == "ALARM"
        outcome = evaluate(_definition(treat_missing=treat), "ALARM", _points(5, 0, None, 5, 5), T0)
        assert outcome is not None and outcome.state == "OK"


def test_no_datapoints_at_all_follow_treat_missing_data() -> None:
    expected = {"missing": "INSUFFICIENT_DATA", "breaching": "ALARM", "notBreaching": "OK"}
    for treat, state in expected.items():
        outcome = evaluate(_definition(treat_missing=treat, evaluation_periods=1), "OK", [], T0)
        assert outcome is not None and outcome.state == state
    assert evaluate(_definition(treat_missing="ignore"), "ALARM", [], T0) is None
    breaching = evaluate(_definition(treat_missing="breaching", evaluation_periods=1), "OK", [], T0)
    assert breaching is not None and breaching.reason == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as "
        "[Breaching].")
    missing = evaluate(_definition(evaluation_periods=2), "OK", [], T0)
    assert missing is not None and missing.reason == "Insufficient Data: 2 datapoints were unknown."


def test_a_few_datapoints_are_completed_by_treat_missing_data() -> None:
    points = _points(None, None, 5, None, None)  # one breaching datapoint out of three needed
    assert evaluate(_definition(treat_missing="breaching"), "OK", points, T0).state == "ALARM"  # type: ignore[union-attr]
    assert evaluate(_definition(treat_missing="notBreaching"), "ALARM", points, T0).state == "OK"  # type: ignore[union-attr]
    assert evaluate(_definition(treat_missing="ignore"), "OK", points, T0) is None
    assert evaluate(_definition(treat_missing="missing"), "OK", points, T0).state == "INSUFFICIENT_DATA"  # type: ignore[union-attr]


def test_m_out_of_n_alarms_need_m_breaching_datapoints() -> None:
    definition = _definition(datapoints_to_alarm=2)
    alarm = evaluate(definition, "OK", _points(5, 0, 7), T0)
    assert alarm is not None and alarm.state == "ALARM"
    assert alarm.reason == ("Threshold Crossed: 2 out of the last 3 datapoints [7.0 (14/11/23 22:13:00), "
                            "5.0 (14/11/23 22:11:00)] were greater than the threshold (1.0) (minimum 2 datapoints for "
                            "OK -> ALARM transition).")
    ok = evaluate(definition, "ALARM", _points(5, 0, 0), T0)
    assert ok is not None and ok.state == "OK"
    assert ok.reason.endswith("were not greater than the threshold (1.0) (minimum 2 datapoints for ALARM -> OK "
                              "transition).")


def test_reasons_and_reason_data_are_worded_as_cloudwatch_words_them() -> None:
    outcome = evaluate(_definition(evaluation_periods=1, threshold=0.0), "INSUFFICIENT_DATA", _points(1.5), T0)
    assert outcome is not None
    assert outcome.reason == "Threshold Crossed: 1 datapoint [1.5 (14/11/23 22:13:00)] was greater than the " \
                             "threshold (0.0)."
    assert outcome.reason_data == {
        "version": "1.0", "queryDate": "2023-11-14T22:14:00.000+0000", "startDate": "2023-11-14T22:13:00.000+0000",
        "statistic": "Average", "period": 60, "recentDatapoints": [1.5], "threshold": 0.0,
        "evaluatedDatapoints": [{"timestamp": "2023-11-14T22:13:00.000+0000", "sampleCount": 1.0, "value": 1.5}]}


def test_low_sample_percentiles_can_leave_the_state_alone() -> None:
    definition = _definition(evaluation_periods=1, statistic="p99", extended=True, low_sample_ignore=True,
                             minimum_samples=1000.0)
    assert evaluate(definition, "OK", _points(50), T0) is None
    evaluated = evaluate(_definition(evaluation_periods=1, statistic="p99", extended=True), "OK", _points(50), T0)
    assert evaluated is not None and evaluated.state == "ALARM"
    assert "extendedStatistic" in evaluated.reason_data


def test_numbers_are_written_as_java_writes_doubles() -> None:
    assert [java_double(v) for v in (1.0, 0.25, 1e-4, 1.5e7, 12345678.9, -2.5e-5, 0.0)] == [
        "1.0", "0.25", "1.0E-4", "1.5E7", "1.23456789E7", "-2.5E-5", "0.0"]

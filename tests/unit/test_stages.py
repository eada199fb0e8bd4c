import pytest

from portal.domain.stages import StageThreshold, stage_for, validate_thresholds

DEFAULT = [
    StageThreshold("current", 0),
    StageThreshold("early", 1),
    StageThreshold("m1", 30),
    StageThreshold("m2", 60),
    StageThreshold("m3", 90),
    StageThreshold("charge_off", 180),
]


@pytest.mark.parametrize(
    ("dpd", "stage"),
    [
        (0, "current"),
        (1, "early"),
        (29, "early"),
        (30, "m1"),
        (59, "m1"),
        (60, "m2"),
        (90, "m3"),
        (179, "m3"),
        (180, "charge_off"),
        (5000, "charge_off"),
    ],
)
def test_stage_changes_exactly_at_each_threshold(dpd, stage):
    assert stage_for(dpd, DEFAULT) == stage


def test_below_first_threshold_is_current():
    thresholds = [StageThreshold("early", 1), StageThreshold("m1", 30)]
    assert stage_for(0, thresholds) == "current"
    assert stage_for(0, []) == "current"


def test_threshold_at_zero_names_the_zero_stage():
    assert stage_for(0, [StageThreshold("performing", 0)]) == "performing"


def test_default_thresholds_are_valid():
    assert validate_thresholds(DEFAULT) == []


def test_validation_reports_each_kind_of_error():
    assert validate_thresholds([StageThreshold("a", 30), StageThreshold("b", 1)]) == ["not_increasing"]
    assert validate_thresholds([StageThreshold("a", 1), StageThreshold("b", 1)]) == ["not_increasing"]
    assert validate_thresholds([StageThreshold("a", -1)]) == ["negative"]
    assert validate_thresholds([StageThreshold("a", 1), StageThreshold("a", 2)]) == ["duplicate_code"]
    assert validate_thresholds([StageThreshold("", 1)]) == ["empty_code"]


def test_stage_for_refuses_invalid_tables_and_negative_dpd():
    with pytest.raises(ValueError):
        stage_for(10, [StageThreshold("a", 30), StageThreshold("b", 1)])
    with pytest.raises(ValueError):
        stage_for(-1, DEFAULT)

"""The words of the programme's outcome: short and long, signs and 'about the same'."""

from __future__ import annotations

from isogrip.home_bp import BpChange, CiUnit, MeanDifference
from isogrip.home_bp.sentences import change_brief


def change(sbp: float, dbp: float) -> BpChange:
    return BpChange(sbp=MeanDifference(sbp, sbp - 3, sbp + 3, 10.0),
                    dbp=MeanDifference(dbp, dbp - 2, dbp + 2, 10.0), unit=CiUnit.DAY,
                    confidence=0.95, n_baseline=24, n_later=24, days_baseline=6,
                    days_later=6)


def test_the_brief_change_says_which_way_each_number_went() -> None:
    assert change_brief(change(-8.04, 2.5), "Training week 4") == (
        "Training week 4: upper number 8.0 mmHg lower, lower number 2.5 mmHg higher, "
        "compared with your baseline week (the bars show the likely range).")


def test_a_change_that_rounds_to_nothing_is_about_the_same() -> None:
    assert change_brief(change(0.04, -0.03), "Training week 8") == (
        "Training week 8: upper number about the same, lower number about the same, "
        "compared with your baseline week (the bars show the likely range).")

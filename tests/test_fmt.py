"""One way to write a figure (core.fmt): signs, changes, shares, p-values, names."""

import math

import pytest

from core import fmt

M = fmt.MINUS


@pytest.mark.parametrize(("value", "signed", "text"), [
    (1234.4, False, "¥1,234"), (-27215086, False, f"{M}¥27,215,086"), (19_800_000, True, "+¥19,800,000"),
    (-0.4, False, "¥0"), (0, True, "¥0"), (None, False, "–"), (math.nan, False, "–"),
])
def test_yen_puts_the_sign_before_the_yen_mark(value, signed, text):
    assert fmt.yen(value, signed=signed) == text


@pytest.mark.parametrize(("value", "signed", "text"), [
    (19_812_345, True, "+¥19.8M"), (-11_966, False, f"{M}¥12.0K"), (-1_234_567, False, f"{M}¥1.23M"),
    (950, True, "+¥950"), (183_000_000, False, "¥183M"), (999_999, False, "¥1.00M"), (-0.2, True, "¥0"),
])
def test_short_yen_keep_three_significant_figures_and_never_write_minus_zero(value, signed, text):
    assert fmt.yen_short(value, signed=signed) == text


def test_a_change_that_rounds_to_nothing_is_no_change():
    assert fmt.yen_change(0.3) == "no change"
    assert fmt.yen_change(-1500) == f"{M}¥1,500"
    assert fmt.yen_change(2_500_000, short=True) == "+¥2.50M"
    assert fmt.pct_change(-0.0001) == "no change"
    assert fmt.pct_change(0.12) == "+12.0%"
    assert fmt.pct(-0.0001, signed=True) == "0.0%"


def test_differences_of_shares_are_percentage_points():
    assert fmt.pp(0.232 - 0.154) == "+7.8 pp"
    assert fmt.pp(-0.05) == f"{M}5.0 pp"
    assert fmt.pp(0.00001) == "no change"
    # beside the shares as shown (15.5% and 18.5%), the change is theirs: +3.0, not the unrounded +3.1
    assert (fmt.pct(0.15546), fmt.pct(0.18454)) == ("15.5%", "18.5%") and fmt.pp(0.18454 - 0.15546) == "+2.9 pp"
    assert fmt.pp_between(0.18454, 0.15546) == "+3.0 pp"
    assert fmt.pp_between(0.1549, 0.15546) == "no change" and fmt.pp_between(None, 0.1) == fmt.MISSING


@pytest.mark.parametrize(("p", "text"), [(0.0, "< 0.001"), (0.0004, "< 0.001"), (0.0234, "0.023"), (None, "–")])
def test_p_values(p, text):
    assert fmt.p_value(p) == text


def test_p_phrase_uses_the_right_relation():
    assert fmt.p_phrase(0.0) == "p < 0.001"
    assert fmt.p_phrase(0.5) == "p = 0.500"


def test_numbers_counts_and_months():
    assert fmt.count(12345.6) == "12,346"
    assert fmt.number(-0.04, 1) == "0.0"
    assert fmt.number(-1234.56, 1) == f"{M}1,234.6"
    assert fmt.trimmed(4.50) == "4.5"
    assert fmt.months(18.0) == "18 months"
    assert fmt.months(1) == "1 month"


def test_missing_cells_are_blank():
    assert fmt.cell(None) is None and fmt.cell(math.nan) is None and fmt.cell(3) == 3
    assert fmt.blank_missing([{"a": None, "b": 1}]) == [{"a": "", "b": 1}]


def test_names_for_people():
    assert fmt.model_name("snaive") == "Seasonal naive"
    assert fmt.model_name("lgbm") == "LightGBM"
    assert fmt.model_name("my_notebook_model") == "my_notebook_model"
    assert fmt.metric_name("wape") == "WAPE"
    assert fmt.metric_name("stockout_rate") == "Stockout rate"


def test_small_shares_keep_two_significant_figures():
    assert fmt.pct_fine(0.084) == "8.4%"  # as fmt.pct from 1 % up
    assert fmt.pct_fine(0.00012) == "0.012%"
    assert fmt.pct_fine(0.005) == "0.50%"
    assert fmt.pct_fine(0.00996) == "1.0%"  # rounds up to 1 %: back to one decimal
    assert fmt.pct_fine(-0.0003) == f"{M}0.030%"
    assert fmt.pct_fine(0.0) == "0%"
    assert fmt.pct_fine(None) == "–"


def test_ratios_are_multiples_readable_at_any_size():
    assert fmt.times(9778.5) == "9,779×"
    assert fmt.times(1.44) == "1.4×"
    assert fmt.times(0.42) == "0.42×"
    assert fmt.times(0.0042) == "0.0042×"
    assert fmt.times(0.0) == "0×"


def test_a_share_of_a_whole_is_a_percentage_below_ten_times_and_a_multiple_from_there():
    assert fmt.share_of(345, 1000) == "35%"  # halves round up, as people round
    assert fmt.share_of(315, 1000) == "32%"
    assert fmt.share_of(99, 10) == "990%"
    assert fmt.share_of(977_850_000, 100_000) == "9,779×"
    assert fmt.share_of(1, 300) == "0.33%"
    assert fmt.share_of(5, 0) == "–" and fmt.share_of(None, 5) == "–"


def test_policy_names_start_a_cell_with_a_capital():
    assert fmt.policy_name("practice") == "Today's practice"
    assert fmt.policy_name("lgbm") == "LightGBM"

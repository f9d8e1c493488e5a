"""German number formats: no "-0,0", no sign on a change that rounds to zero, missing values as a dash."""

from __future__ import annotations

import math

from quartier import format as fmt


def test_number_never_negative_zero():
    assert fmt.number(-0.001, 2) == "0,00"
    assert fmt.number(-0.04) == "0,0"
    assert fmt.number(-0.06) == "-0,1"
    assert fmt.number(-1234.5, 1) == "-1.234,5"
    assert fmt.value(-0.0001, "%") == "0,0 %"


def test_change_sign_follows_the_rounded_value():
    assert fmt.change(-0.01, "%") == "±0,0 Pp."
    assert fmt.change(0.04, "%") == "±0,0 Pp."
    assert fmt.change(1.26, "%") == "+1,3 Pp."
    assert fmt.change(-2, "Anzahl") == "−2"


def test_missing_is_a_dash():
    for v in (None, float("nan"), math.nan):
        assert fmt.number(v) == fmt.NOTHING and fmt.value(v, "%") == fmt.NOTHING and fmt.change(v) == fmt.NOTHING

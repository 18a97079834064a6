"""The engine's own rules, without a kind's: formulas in the error report, a lost file."""

from __future__ import annotations

from defensa.imports.engine import inert_cell


def test_formulas_in_the_error_report_stay_text() -> None:
    assert inert_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert inert_cell("@SUM(A1)") == "'@SUM(A1)"
    assert inert_cell("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert inert_cell("-2+3") == "'-2+3"
    assert inert_cell("+1 (213) 555-0100") == "+1 (213) 555-0100"
    assert inert_cell("Rosa") == "Rosa"
    assert inert_cell("") == ""


def test_a_first_line_that_is_not_csv_is_refused_with_a_reason() -> None:
    import pytest

    from defensa.imports import reading

    with pytest.raises(reading.Unreadable, match="not CSV"):
        reading.shape([b"\r\x01"])

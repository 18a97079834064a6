"""The engine's own rules, without a kind's: formulas in the error report, a lost file."""

from __future__ import annotations

from defensa.imports.engine import _inert


def test_formulas_in_the_error_report_stay_text() -> None:
    assert _inert('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert _inert("@SUM(A1)") == "'@SUM(A1)"
    assert _inert("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert _inert("-2+3") == "'-2+3"
    assert _inert("+1 (213) 555-0100") == "+1 (213) 555-0100"
    assert _inert("Rosa") == "Rosa"
    assert _inert("") == ""

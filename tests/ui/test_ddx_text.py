"""How the panel words probabilities and evidence effects (no window)."""

from __future__ import annotations

from osler.ui.ddx_panel import odds_text, percent


def test_probabilities_are_never_shown_as_certain():
    assert percent(0.99996) == ">99.9 %" and percent(1.0) == "100.0 %"
    assert percent(0.0004) == "<0.1 %" and percent(0.4213) == "42.1 %"
    assert percent(None) == "—"
    assert odds_text(1.2528) == "odds ×3.5" and odds_text(5.25) == "odds ×191"

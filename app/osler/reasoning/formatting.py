"""How a probability is written for clinicians, in the window and the CLI alike."""

from __future__ import annotations


def format_probability(p: float | None) -> str:
    """'42.0 %', '<0.1 %', '>99.9 %', or '—' when there is none (a clinician-added
    diagnosis). A model estimate is never rounded to certainty, either way."""
    if p is None:
        return "—"
    if 0 < p < 0.001:
        return "<0.1 %"
    if 0.999 < p < 1:
        return ">99.9 %"
    return f"{p * 100:.1f} %"

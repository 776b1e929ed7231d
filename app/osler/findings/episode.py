"""The episode at 'now': what each finding of a record is to the presentation in progress.

- **current**: symptoms and signs noted in the episode, vital signs and labs recent enough to
  describe the patient now (the latest value of each: a newer normal result supersedes an
  older abnormal one);
- **background**: history, active chronic problems, medications, exposures and risk
  factors, and problem-list entries older than the episode: they shape the likelihood of
  each diagnosis but are not what an acute diagnosis must explain;
- **superseded**: an older mention or value replaced by a newer one (shown, not used);
- **conflict**: an old problem-list entry contradicted by a newer result, such as anaemia
  recorded years ago with a normal haemoglobin since (shown and flagged, not used).

How recent 'recent' is depends on the kind of finding. The windows are the KB pack's
(`episode.json`, so a clinic can change them) with these defaults and clinical bases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from osler.knowledge import FindingDef, KnowledgeBase

BACKGROUND_CATEGORIES = frozenset({"history", "risk-factor"})
WINDOW_KINDS = ("symptom", "vital", "lab", "other_measurement")
DEFAULT_WINDOW_DAYS: dict[str, float] = {
    "symptom": 30.0,
    "vital": 3.0,
    "lab": 30.0,
    "other_measurement": 365.0,
}
WINDOW_BASIS: dict[str, str] = {
    "symptom": "Symptoms and signs documented in the last 30 days, and problem-list entries "
               "of symptoms begun in that time, belong to the presentation: 'acute' illness is "
               "conventionally under 4 weeks (e.g. acute cough < 3 weeks, BTS 2006; acute "
               "diarrhoea < 14 days, WHO); older ones are background.",
    "vital": "Vital signs describe physiology over hours; acutely ill patients are observed at "
             "least every 12 hours (NICE CG50; RCP NEWS2 2017), so a value older than 3 days "
             "no longer describes the patient now.",
    "lab": "Acute-phase and organ-function tests (blood count, CRP, electrolytes, troponin, "
           "D-dimer) change within days to weeks; a result older than 30 days is not used "
           "as a finding of the current episode.",
    "other_measurement": "Slow-moving measurements (BMI, HbA1c, which reflects 8-12 weeks of "
                         "glycaemia, ADA Standards of Care 2024) stay informative for a year.",
}


@dataclass(frozen=True, slots=True)
class EpisodeWindows:
    """How long after it was recorded a finding still describes the patient 'now'."""

    symptom: timedelta
    vital: timedelta
    lab: timedelta
    other_measurement: timedelta

    @staticmethod
    def of(kb: KnowledgeBase) -> EpisodeWindows:
        days = {**DEFAULT_WINDOW_DAYS, **kb.episode_windows}
        return EpisodeWindows(**{k: timedelta(days=days[k]) for k in WINDOW_KINDS})

    def for_measurement(self, category: str) -> timedelta:
        """The window of a measured finding: vital signs, labs, anything else measured."""
        if category == "vital":
            return self.vital
        if category == "lab":
            return self.lab
        return self.other_measurement

    def to_json(self) -> dict[str, dict[str, object]]:
        return {k: {"days": getattr(self, k).total_seconds() / 86400,
                    "basis": WINDOW_BASIS[k]} for k in WINDOW_KINDS}


def is_background(f: FindingDef) -> bool:
    """History and risk-factor findings are background wherever they are written."""
    return f.category in BACKGROUND_CATEGORIES

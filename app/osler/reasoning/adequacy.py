"""Too little information: when the findings cannot rank diagnoses yet, say so.

The measure is how much the presentation's findings moved the differential away from what
age, sex and background alone say: the Kullback-Leibler divergence, in bits, of the
posterior from the background-only posterior (one extra model run in the explanation
batch). A single vague symptom or only absent findings move it little; a presentation moves
it by several bits. Below MIN_INFORMATION_BITS, with no present finding of the presentation
at all, or with a single one that moves it less than SINGLE_FINDING_BITS (a knowledge base
whose background rate for a vague symptom is too low can make one word look informative),
the differential is flagged: the CLI JSON carries `adequacy.sufficient:
false` and the window shows 'not enough information to rank' with the most informative
questions first, instead of a confident-looking list. The threshold is documented in
docs/model.md with the measurements that chose it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from osler.reasoning.case import ABSENT, CaseInput

MIN_INFORMATION_BITS = 3.0
SINGLE_FINDING_BITS = 8.0  # one finding alone ranks only when it is nearly diagnostic


@dataclass(frozen=True, slots=True)
class Adequacy:
    """Whether the findings say enough to rank diagnoses, and why."""

    sufficient: bool
    information_bits: float
    present_findings: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"sufficient": self.sufficient,
                "information_bits": round(self.information_bits, 3),
                "present_findings": self.present_findings, "reason": self.reason,
                "threshold_bits": MIN_INFORMATION_BITS}


def presentation_only(case: CaseInput, background: set[str]) -> CaseInput:
    """The case without its presentation: only background findings (history, risk factors)."""
    from dataclasses import replace

    return replace(case, findings=tuple(x for x in case.findings if x[0] in background))


def information_bits(posterior: np.ndarray, reference: np.ndarray) -> float:
    """KL(posterior || reference) in bits."""
    p = np.clip(posterior, 1e-15, 1.0)
    q = np.clip(reference, 1e-15, 1.0)
    return float(np.sum(p * (np.log2(p) - np.log2(q))))


def assess(case: CaseInput, posterior: np.ndarray, reference: np.ndarray,
           background: set[str] | None = None) -> Adequacy:
    """The adequacy of a case's presentation (`reference`: the background-only posterior)."""
    bg = background or set()
    present = sum(1 for fid, st in case.findings if st != ABSENT and fid not in bg)
    bits = information_bits(posterior, reference)
    if present == 0:
        reason = ("no symptom, sign or abnormal result of the presentation was recognised"
                  if not case.findings else "only absent findings and background were given")
        return Adequacy(False, bits, 0, reason)
    if present == 1 and bits < SINGLE_FINDING_BITS:
        return Adequacy(False, bits, 1,
                        "only one finding of the presentation was recognised, and it is not "
                        "specific enough to rank on its own")
    if bits < MIN_INFORMATION_BITS:
        return Adequacy(False, bits, present,
                        f"the findings narrow the differential by only {bits:.1f} bits "
                        f"(at least {MIN_INFORMATION_BITS:g} are needed to rank)")
    return Adequacy(True, bits, present, "")

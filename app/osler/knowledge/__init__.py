"""Knowledge base: conditions (ICD-10-CM, can't-miss, priors, P(finding|condition)) and the
findings vocabulary (synonyms, codes, thresholds). Loaded from a KB pack directory
(resources/kb by default), replaceable by a clinic's own pack.
"""

from osler.knowledge.model import (
    ConditionDef,
    FindingDef,
    KnowledgeBase,
    KnowledgeError,
    ThresholdRule,
)

__all__ = ["ConditionDef", "FindingDef", "KnowledgeBase", "KnowledgeError", "ThresholdRule"]

"""Knowledge base: conditions (ICD-10-CM, can't-miss, priors, P(finding|condition)) and the
findings vocabulary (synonyms, codes, thresholds). Loaded from a KB pack directory
(resources/kb by default, or $OSLER_KB), replaceable by a clinic's own pack (docs/kb-pack.md).
"""

from osler.knowledge.model import (
    ConditionDef,
    FindingDef,
    HpoLink,
    KnowledgeBase,
    KnowledgeError,
    NormalSystem,
    Prerequisite,
    PrerequisiteItem,
    RecordRule,
    ThresholdRule,
)
from osler.knowledge.pack import default_kb, kb_for, load_pack

__all__ = ["ConditionDef", "FindingDef", "HpoLink", "KnowledgeBase", "KnowledgeError",
           "NormalSystem", "Prerequisite", "PrerequisiteItem", "RecordRule", "ThresholdRule",
           "default_kb", "kb_for", "load_pack"]

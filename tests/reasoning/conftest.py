"""A tiny knowledge base and a tiny model trained on it, built by the tests (no download)."""

from __future__ import annotations

from pathlib import Path

import pytest

from osler.knowledge import ConditionDef, FindingDef, KnowledgeBase

FINDINGS = {
    "chest-pain": "Chest pain", "shortness-of-breath": "Shortness of breath",
    "cough": "Cough", "fever": "Fever", "hemoptysis": "Coughing up blood",
    "leg-swelling": "Leg swelling", "tachycardia": "Tachycardia", "hypoxaemia": "Hypoxaemia",
    "wheezing": "Wheezing", "sore-throat": "Sore throat", "nasal-congestion": "Nasal congestion",
    "headache": "Headache", "neck-stiffness": "Neck stiffness", "rash": "Rash",
    "recent-surgery": "Recent surgery",
}

CONDITIONS = [
    ("pulmonary-embolism", "Pulmonary embolism", ("I26.99",), 0.04, True,
     {"shortness-of-breath": 0.85, "chest-pain": 0.6, "tachycardia": 0.6, "hypoxaemia": 0.6,
      "hemoptysis": 0.15, "leg-swelling": 0.3, "recent-surgery": 0.35, "cough": 0.2}),
    ("pneumonia", "Pneumonia", ("J18.9",), 0.12, True,
     {"cough": 0.9, "fever": 0.8, "shortness-of-breath": 0.5, "chest-pain": 0.3,
      "tachycardia": 0.4, "hypoxaemia": 0.3}),
    ("asthma", "Asthma", ("J45.909",), 0.15, False,
     {"wheezing": 0.8, "shortness-of-breath": 0.8, "cough": 0.6, "chest-pain": 0.1}),
    ("common-cold", "Common cold", ("J00",), 0.5, False,
     {"cough": 0.6, "sore-throat": 0.6, "nasal-congestion": 0.8, "fever": 0.2,
      "headache": 0.3}),
    ("meningitis", "Meningitis", ("G03.9",), 0.01, True,
     {"headache": 0.9, "fever": 0.8, "neck-stiffness": 0.7, "rash": 0.2}),
    ("migraine", "Migraine", ("G43.909",), 0.18, False,
     {"headache": 0.95, "nasal-congestion": 0.05}),
]


def tiny_kb() -> KnowledgeBase:
    findings = [FindingDef(fid, label, "symptom") for fid, label in FINDINGS.items()]
    total = sum(c[3] for c in CONDITIONS)
    conds = [
        ConditionDef(id=cid, name=name, icd10=icd, prior=prior / total, findings=probs,
                     cant_miss=cm, cant_miss_rationale="test rationale" if cm else None,
                     age_lr={"15-29": 1.0, "45-59": 1.5 if cid == "pulmonary-embolism" else 1.0},
                     sex_lr={"female": 1.0, "male": 1.0}, sources=("test",))
        for cid, name, icd, prior, cm, probs in CONDITIONS
    ]
    return KnowledgeBase("tiny-test-kb", "1", conds, findings)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return tiny_kb()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """Train a very small model on the tiny KB (a few seconds on CPU)."""
    from osler.reasoning.training import TrainConfig, train

    out = tmp_path_factory.mktemp("models") / "tiny-ddx"
    cfg = TrainConfig(model_id="tiny-ddx", version="0.0.1", hidden=64, layers=1, steps=250,
                      batch=128, lr=3e-3, calibration_cases=2000, eval_cases=1000, threads=1,
                      dropout=0.0)
    report = train(tiny_kb(), out, cfg, progress=lambda _m: None)
    assert report["steps"] == 250
    return out

"""Write the FHIR bundles the episode and prerequisite tests read (python make_bundles.py).

Each bundle is fictional, written by the project, and tests one rule of issue 12:
- stale_problem.json: anaemia recorded in 2013 (pregnancy) and never closed, a normal
  haemoglobin in 2020, and a pneumonia presentation in 2021 with no sickle cell disease
  anywhere: the old problem is a conflict, and acute chest syndrome requires sickle cell
  disease, which the full record does not document;
- resolved_problems.json: asthma resolved (clinical status), COPD abated (abatement date),
  hypertension both 'active' and abated (a contradiction the import reports), refuted
  diabetes, and a cough today;
- stale_lab.json: a raised white count 10 days ago superseded by a normal one today;
- vague.json: a visit whose only finding is tiredness (too little information to rank).
"""

from __future__ import annotations

import json
from pathlib import Path

from osler.fhir.builder import BundleBuilder

HERE = Path(__file__).resolve().parent


def stale_problem() -> dict:
    b = BundleBuilder("test-stale-problem")
    b.patient("Maria", "Testcase", "female", "1988-02-14")
    b.encounter("2013-04-02T10:00:00+00:00", "2013-04-02T10:30:00+00:00", "Antenatal visit")
    b.condition("2013-04-02", "271737000", "Anemia")
    b.observation("2013-04-02T10:10:00+00:00", "718-7", "Hemoglobin [Mass/volume] in Blood",
                  9.8, "g/dL", low=12.0, high=15.5)
    b.observation("2020-03-05T09:00:00+00:00", "718-7", "Hemoglobin [Mass/volume] in Blood",
                  13.4, "g/dL", low=12.0, high=15.5)
    enc = b.encounter("2021-06-10T08:00:00+00:00", None, "Emergency department visit",
                      cls="EMER")
    b.vital("2021-06-10T08:05:00+00:00", "8310-5", "Body temperature", 38.8, "Cel",
            encounter=enc)
    b.vital("2021-06-10T08:05:00+00:00", "9279-1", "Respiratory rate", 26, "/min",
            encounter=enc)
    b.vital("2021-06-10T08:05:00+00:00", "8867-4", "Heart rate", 108, "/min", encounter=enc)
    b.vital("2021-06-10T08:05:00+00:00", "59408-5",
            "Oxygen saturation in Arterial blood by Pulse oximetry", 92, "%", encounter=enc)
    b.note("2021-06-10T08:20:00+00:00",
           "Three days of fever, cough productive of green sputum and right-sided chest pain "
           "worse on deep breathing. Crackles at the right base.", title="ED note",
           encounter=enc)
    return b.bundle()


def resolved_problems() -> dict:
    b = BundleBuilder("test-resolved-problems")
    b.patient("Tom", "Testcase", "male", "1970-07-01")
    b.condition("2001-01-10", "195967001", "Asthma", active=False)
    b.condition("2005-03-01", "13645005", "Chronic obstructive lung disease",
                abated="2012-01-01")
    b.condition("2010-05-01", "38341003", "Hypertensive disorder", clinical="active",
                abated="2015-05-01")
    cid = b.condition("2018-02-01", "44054006", "Diabetes mellitus type 2")
    for e in b.entries:
        if e["resource"]["id"] == cid:
            e["resource"]["verificationStatus"]["coding"][0]["code"] = "refuted"
    enc = b.encounter("2024-02-01T09:00:00+00:00", None, "Office visit")
    b.note("2024-02-01T09:10:00+00:00", "Cough for two days.", encounter=enc)
    return b.bundle()


def stale_lab() -> dict:
    b = BundleBuilder("test-stale-lab")
    b.patient("Lee", "Testcase", "female", "1980-09-09")
    b.observation("2024-05-01T09:00:00+00:00", "6690-2", "Leukocytes [#/volume] in Blood",
                  16.5, "10*3/uL", low=4.0, high=10.5)
    b.observation("2024-05-11T09:00:00+00:00", "6690-2", "Leukocytes [#/volume] in Blood",
                  7.2, "10*3/uL", low=4.0, high=10.5)
    return b.bundle()


def vague() -> dict:
    b = BundleBuilder("test-vague")
    b.patient("Ann", "Testcase", "female", "1984-01-20")
    enc = b.encounter("2024-06-03T09:00:00+00:00", None, "Office visit")
    b.note("2024-06-03T09:05:00+00:00", "Feeling tired.", encounter=enc)
    return b.bundle()


BUNDLES = {"vague.json": vague, "stale_problem.json": stale_problem,
           "resolved_problems.json": resolved_problems, "stale_lab.json": stale_lab}


def main() -> None:
    for name, make in BUNDLES.items():
        (HERE / name).write_text(json.dumps(make(), indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""The session summary: a JSON-ready report and a self-contained HTML page made from it.

The HTML has inline styles only: no scripts, images, fonts or links to fetch, so it opens
anywhere offline and prints cleanly. It names the patient only by age and sex. It is
written only where the trainer says (`write_html`); the window turns the same HTML into PDF.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from osler.teaching.cases import replace_file
from osler.teaching.errors import TeachingError
from osler.teaching.scoring import CANT_MISS_THRESHOLD, OVERLAP_K, diagnosis_is_gold
from osler.teaching.session import TeachingSession

NOTICE = ("Decision support, not a diagnosis. Osler's differential is a teaching aid: its "
          "probabilities are model estimates from public and synthetic data, not validated in "
          "patients. Cases are fictional or de-identified.")
MODEL_ROWS = 10
GOLD_LI = "<li class=\"gold\">"


def session_report(session: TeachingSession) -> dict[str, Any]:
    """Everything the summary shows, as plain data (no patient identifiers)."""
    meta = session.meta
    rounds = []
    model_info = None
    for r in session.rounds:
        diff = r.differential
        if diff is not None and model_info is None:
            model_info = {"id": diff.model.id, "version": diff.model.version,
                          "warnings": list(diff.warnings[:3])}
        scores = {s.trainee: s for s in session.scores(r)}
        rounds.append({
            "number": r.number,
            "stage": r.stage_title,
            "events_shown": r.event_count,
            "shown": [{"stage": t, "shown": n, "of": total} for t, n, total in r.shown],
            "commitments": [
                {"trainee": c.trainee,
                 "picks": [{"name": p.name, "text": p.text, "gold": p.is_gold(session.target),
                            "in_kb": p.resolved} for p in c.picks],
                 "score": scores[c.trainee].to_json() if c.trainee in scores else None}
                for t in session.trainees if (c := r.commitments.get(t)) is not None],
            "not_committed": [t for t in session.trainees if t not in r.commitments],
            "model_shown": r.model_shown,
            "model": [{"rank": d.rank, "name": d.name, "icd10": list(d.icd10),
                       "probability": round(d.probability, 4), "cant_miss": d.cant_miss,
                       "gold": diagnosis_is_gold(d, session.target)}
                      for d in (diff.diagnoses if diff is not None else [])],
            "model_gold_rank": session.model_gold_rank(r),
        })
    return {
        "case": {"id": meta.id, "title": meta.title, "specialty": meta.specialty,
                 "difficulty": meta.difficulty, "summary": meta.summary},
        "patient": session.reveal.demographics,
        "trainees": list(session.trainees),
        "started": session.started.isoformat(timespec="minutes"),
        "written": datetime.now(UTC).isoformat(timespec="minutes"),
        "model": model_info,
        "gold": {**meta.gold.to_json(), "matched_by": session.target.method},
        "teaching_notes": meta.teaching_notes,
        "objectives": list(meta.objectives),
        "rounds": rounds,
        "totals": [session.trainee_summary(t) for t in session.trainees],
        "definitions": {"cant_miss_threshold": CANT_MISS_THRESHOLD, "overlap_k": OVERLAP_K},
        "notice": NOTICE,
    }


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _rank(value: int | None) -> str:
    return "not listed" if value is None else f"#{value}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#111;
margin:2em auto;max-width:60em;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em;
border-bottom:2px solid #333}h3{font-size:1.05em;margin-bottom:.3em}
.notice{border:2px solid #b00;background:#fff4f4;padding:.6em .8em;font-weight:600}
.meta{color:#333}table{border-collapse:collapse;margin:.4em 0 1em;width:100%}
th,td{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee}.gold{font-weight:700;background:#fff3b0}.cm{color:#a00;font-weight:600}
.muted{color:#555}ol{margin:.2em 0 .6em 1.4em;padding:0}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}}
"""


def summary_html(session: TeachingSession) -> str:
    """The session summary as one self-contained HTML document."""
    return report_html(session_report(session))


def report_html(rep: dict[str, Any]) -> str:
    """HTML for a `session_report` document (inline CSS; nothing to fetch)."""
    case = rep["case"]
    out = [
        "<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>Teaching session: {_e(case['title'])}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Teaching session: {_e(case['title'])}</h1>",
        f"<p class=\"notice\">{_e(rep['notice'])}</p>",
        "<p class=\"meta\">"
        f"Specialty: {_e(case['specialty'])} · Difficulty: {_e(case['difficulty'])} · "
        f"Patient: {_e(rep['patient'])}<br>Trainees: {_e(', '.join(rep['trainees']))}<br>"
        f"Session started {_e(rep['started'])} (UTC); summary written {_e(rep['written'])}"
        "</p>",
    ]
    if rep["model"]:
        m = rep["model"]
        out.append(f"<p class=\"muted\">Model: {_e(m['id'])} {_e(m['version'])}</p>")
    gold = rep["gold"]
    out += ["<h2>Diagnosis and teaching notes</h2>",
            f"<p><b>Gold diagnosis:</b> <span class=\"gold\">{_e(gold['name'])}</span>"
            + (f" ({_e(', '.join(gold['icd10']))})" if gold["icd10"] else "") + "</p>"]
    if rep["teaching_notes"]:
        out.append(f"<p>{_e(rep['teaching_notes'])}</p>")
    if rep["objectives"]:
        out.append("<h3>Learning objectives</h3><ul>"
                   + "".join(f"<li>{_e(o)}</li>" for o in rep["objectives"]) + "</ul>")
    out += ["<h2>Scores for the session</h2>", _totals_table(rep)]
    out.append("<h2>Checkpoints</h2>")
    if not rep["rounds"]:
        out.append("<p class=\"muted\">No one committed a differential in this session.</p>")
    for r in rep["rounds"]:
        out.append(_round_html(r))
    d = rep["definitions"]
    out += [
        "<h2>How the scores are defined</h2><ul>",
        "<li><b>Gold rank</b>: position of the gold diagnosis in the list (top-1/3/5: at or "
        "above that rank).</li>",
        "<li><b>Can't-miss coverage</b>: of the can't-miss conditions the model listed at or "
        f"above {d['cant_miss_threshold']:.0%}, the share the trainee also listed.</li>",
        f"<li><b>Overlap</b>: how many of the model's top {d['overlap_k']} the trainee also "
        "listed.</li>",
        "<li>A diagnosis is the gold when it is the knowledge-base condition the gold names "
        "(or, for a gold outside the knowledge base, has its ICD-10-CM category).</li></ul>",
        f"<p class=\"notice\">{_e(rep['notice'])}</p>",
        "</body></html>",
    ]
    return "\n".join(out) + "\n"


def _totals_table(rep: dict[str, Any]) -> str:
    rows = ["<table><tr><th>Trainee</th><th>Checkpoints committed</th><th>Final gold rank"
            "</th><th>Best gold rank</th><th>Gold first in top 3</th><th>Can't-miss coverage "
            "(mean)</th><th>Overlap with model (mean)</th></tr>"]
    for t in rep["totals"]:
        rows.append(
            f"<tr><td>{_e(t['trainee'])}</td><td>{t['checkpoints_committed']}</td>"
            f"<td>{_e(_rank(t['final_gold_rank']) if t['checkpoints_scored'] else '—')}</td>"
            f"<td>{_e(_rank(t['best_gold_rank']) if t['checkpoints_scored'] else '—')}</td>"
            f"<td>{_e(t['first_top3'] or '—')}</td>"
            f"<td>{_pct(t['mean_cant_miss_coverage'])}</td><td>{_pct(t['mean_overlap'])}</td>"
            "</tr>")
    rows.append("</table>")
    return "".join(rows)


def _round_html(r: dict[str, Any]) -> str:
    shown = ", ".join(f"{s['stage']} {s['shown']}/{s['of']}" for s in r["shown"] if s["shown"])
    out = [f"<h3>{r['number']}. {_e(r['stage'])}</h3>",
           f"<p class=\"muted\">{r['events_shown']} events shown ({_e(shown)})</p>"]
    for c in r["commitments"]:
        items = "".join(
            (GOLD_LI if p["gold"] else "<li>") + _e(p["name"])
            + ("" if p["in_kb"] else " <span class=\"muted\">(not in the knowledge base)"
               "</span>") + "</li>" for p in c["picks"])
        out.append(f"<p><b>{_e(c['trainee'])}</b></p><ol>{items}</ol>")
        s = c["score"]
        if s is not None:
            missed = ", ".join(s["cant_miss_missed"]) or "none"
            out.append(
                f"<p class=\"muted\">Gold rank {_e(_rank(s['gold_rank']))}; top-1/3/5 "
                f"{'yes' if s['top1'] else 'no'}/{'yes' if s['top3'] else 'no'}/"
                f"{'yes' if s['top5'] else 'no'}; can't-miss coverage "
                f"{_pct(s['cant_miss_coverage'])} (missed: {_e(missed)}); overlap with the "
                f"model's top {s['overlap_k']}: {len(s['overlap'])}</p>")
    if r["not_committed"]:
        out.append(f"<p class=\"muted\">Not committed: {_e(', '.join(r['not_committed']))}"
                   "</p>")
    if r["model_shown"]:
        rows = ["<table><tr><th>#</th><th>Model's differential</th><th>ICD-10-CM</th>"
                "<th>Probability</th></tr>"]
        for d in r["model"][:MODEL_ROWS]:
            cls = " class=\"gold\"" if d["gold"] else ""
            cm = " <span class=\"cm\">can't miss</span>" if d["cant_miss"] else ""
            rows.append(f"<tr{cls}><td>{d['rank']}</td><td>{_e(d['name'])}{cm}</td>"
                        f"<td>{_e(', '.join(d['icd10']))}</td>"
                        f"<td>{d['probability']:.1%}</td></tr>")
        rows.append("</table>")
        out.append("".join(rows))
        out.append(f"<p class=\"muted\">Gold in the model's list: "
                   f"{_e(_rank(r['model_gold_rank']))}</p>")
    else:
        out.append("<p class=\"muted\">The model's differential was not shown at this "
                   "checkpoint.</p>")
    return "".join(out)


def write_html(session: TeachingSession, path: str | Path, overwrite: bool = True) -> Path:
    """Write the summary to `path` (and nowhere else), through a temporary file."""
    return write_text(summary_html(session), path, overwrite)


def write_text(text: str, path: str | Path, overwrite: bool = True) -> Path:
    """Write UTF-8 text atomically; TeachingError when the folder is missing or it exists."""
    target = Path(path)
    if not target.parent.is_dir():
        raise TeachingError("the folder does not exist", str(target.parent))
    if target.exists() and not overwrite:
        raise TeachingError("file exists", str(target))
    try:
        replace_file(target, text)
    except OSError as exc:
        raise TeachingError(f"cannot write ({exc.strerror or exc})", str(target)) from None
    return target

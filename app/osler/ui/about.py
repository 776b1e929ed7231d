"""Help ▸ About: intended use, the 'not a diagnosis' notice, data sources and their terms."""

from __future__ import annotations

import html

from PySide6 import __version__ as pyside_version
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from osler import __version__

NOT_A_DIAGNOSIS = (
    "Decision support — not a diagnosis. Osler suggests possibilities for a clinician to "
    "consider; it has not been clinically validated."
)

ABOUT_HTML = f"""
<h2>Osler {__version__}</h2>
<p><b>Clinical decision support for licensed clinicians. Not a diagnosis, not a medical
device, and not clinically validated.</b> Osler shows a patient's FHIR R4 record as a
timeline and, beside it, a ranked differential diagnosis with the evidence for and against
each entry, so that a clinician can consider possibilities they might otherwise miss. Every
suggestion needs the clinician's own assessment.</p>
<h3>Intended use</h3>
<ul>
<li>For physicians and other licensed clinicians, clinics without a network, and clinical
trainers. Not for patients or the public.</li>
<li>Not for making or confirming a diagnosis, choosing a treatment, or triage without
clinical review.</li>
<li>The knowledge base derives from US ambulatory-care survey statistics and a synthetic
dataset; children, pregnancy, rare diseases and non-US populations are poorly
represented.</li>
</ul>
<h3>Knowledge base: research use</h3>
<p>The shipped knowledge base is derived from <b>SymCat</b> (symptom–condition statistics
scraped from symcat.com, derived from the US CDC NAMCS/NHAMCS surveys; no licence file):
<b>for research and demonstration use only</b>. A clinic can replace it with its own
licensed knowledge-base pack.</p>
<h3>Data sources and terms</h3>
<ul>
<li><b>SymCat</b> — conditions, symptoms and their probabilities; research and
demonstration use, attribution "SymCat".</li>
<li><b>DDXPlus</b> (Fansi Tchango et al., NeurIPS 2022) — pathologies, ICD-10 codes,
severities; CC-BY 4.0.</li>
<li><b>ICD-10-CM</b> (US CDC/NCHS, via simple-icd-10-cm) — public domain.</li>
<li><b>all-MiniLM-L6-v2</b> (sentence-transformers) — Apache-2.0.</li>
<li>Development and tests also used HL7 FHIR R4 examples (CC0) and Synthea synthetic
records (Apache-2.0 / CC0); these are not shipped.</li>
<li>The demo patients are fictional and written by the Osler project.</li>
</ul>
<p>Details: docs/data-sources.md and docs/intended-use.md in the installation.</p>
<h3>Privacy</h3>
<p>Osler works offline: it never sends data over the network. Its settings file holds window
layout and preferences, never patient names or record content. Recently opened files are
remembered only for the session, unless you choose File ▸ Recent files ▸ Remember recent
files (their names, which may name the patient, are then stored unencrypted).</p>
<p style="color:gray">Qt for Python (PySide6) {pyside_version}, LGPLv3.</p>
"""


def rare_sources_html(hpo_version: str | None) -> str:
    """The sources of 'Rare diseases to consider', with the panel's own attribution line."""
    from osler.rare.panel import RarePanel

    line = RarePanel(False, hpo_version=hpo_version or "").attribution()
    return ("<h3>Rare diseases to consider</h3><p>Phenotype-similarity suggestions (not "
            "probabilities) from the Human Phenotype Ontology and its OMIM and Orphanet "
            f"disease annotations, shipped with hpo3.</p><p>{html.escape(line)}</p>")


def _kb_hpo_version() -> str | None:
    try:
        from osler.knowledge.pack import default_kb

        return default_kb().hpo_version
    except Exception:  # About must open even with a broken KB pack
        return None


class AboutDialog(QDialog):
    """Scrollable About box (a plain QMessageBox cannot scroll on small screens)."""

    def __init__(self, parent: QWidget | None = None, hpo_version: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("About Osler")
        self.setAccessibleName("About Osler")
        self.resize(620, 560)
        layout = QVBoxLayout(self)
        self.text = QTextBrowser()
        self.text.setAccessibleName("About Osler text")
        self.text.setOpenExternalLinks(False)
        rare = rare_sources_html(hpo_version or _kb_hpo_version())
        self.text.setHtml(ABOUT_HTML.replace("<h3>Privacy</h3>", rare + "<h3>Privacy</h3>"))
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)

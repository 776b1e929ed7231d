"""The session summary as PDF: Qt lays out the summary's own HTML (offline, no browser)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

from osler.teaching.errors import TeachingError


def write_pdf(html: str, path: str | Path, title: str = "Teaching session") -> Path:
    """Write HTML to a PDF file at `path` only (through a temporary file beside it)."""
    target = Path(path)
    if not target.parent.is_dir():
        raise TeachingError("the folder does not exist", str(target.parent))
    fd, tmp = tempfile.mkstemp(prefix=".summary-", suffix=".pdf", dir=target.parent)
    os.close(fd)
    try:
        writer = QPdfWriter(tmp)
        writer.setTitle(title)
        writer.setCreator("Osler")
        writer.setResolution(150)
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                         QPageLayout.Orientation.Portrait,
                                         QMarginsF(15, 15, 15, 15),
                                         QPageLayout.Unit.Millimeter))
        doc = QTextDocument()
        doc.setHtml(html)
        doc.print_(writer)
        del writer  # flushes and closes the file
        if Path(tmp).stat().st_size == 0:
            raise TeachingError("the PDF could not be written", str(target))
        os.replace(tmp, target)
    except OSError as exc:
        raise TeachingError(f"cannot write ({exc.strerror or exc})", str(target)) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target

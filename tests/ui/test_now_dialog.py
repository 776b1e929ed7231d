"""Set 'now': a calendar picker, text in the user's locale format or FHIR, or 'Latest'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QDateTime, QLocale
from PySide6.QtWidgets import QDialogButtonBox

from osler.ui.now_dialog import NowDialog, ask_now, from_qdatetime, locale_formats
from tests.ui.conftest import answer_modal

UK = QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom)
BOUNDS = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 3, 4, 18, tzinfo=UTC))


@pytest.fixture
def dialog(qtbot):
    d = NowDialog(None, datetime(2024, 3, 4, 14, 7, tzinfo=UTC), BOUNDS, locale=UK)
    qtbot.addWidget(d)
    d.show()
    return d


def ok(d: NowDialog):
    return d.buttons.button(QDialogButtonBox.StandardButton.Ok)


def test_starts_on_the_current_cursor_with_a_calendar(dialog):
    assert dialog.picker.calendarPopup() and dialog.at_choice.isChecked()
    assert dialog.value() == datetime(2024, 3, 4, 14, 7, tzinfo=UTC)
    assert dialog.picker.displayFormat() == UK.dateTimeFormat(QLocale.FormatType.ShortFormat)


def test_typed_locale_and_fhir_text(qtbot, dialog):
    date_time, _date = locale_formats(UK)
    local = datetime(2024, 2, 10, 9, 30).astimezone()
    qtbot.keyClicks(dialog.text, QDateTime(local.replace(tzinfo=None)).toString(date_time))
    assert dialog.value() == local and ok(dialog).isEnabled() and not dialog.error.text()
    assert from_qdatetime(dialog.picker.dateTime()) == local  # the calendar follows the text
    dialog.text.setText("2024-03-04")
    assert dialog.value() == datetime(2024, 3, 4, 23, 59, 59, 999999, tzinfo=UTC)
    dialog.text.setText("10/02/2024")  # a date alone: the end of that local day
    assert dialog.value() == datetime(2024, 2, 10, 23, 59, 59, 999999).astimezone()
    dialog.text.setText("next Tuesday")
    assert not ok(dialog).isEnabled() and "Not a date" in dialog.error.text()
    dialog.text.clear()
    assert ok(dialog).isEnabled()


def test_picking_in_the_calendar_replaces_the_typed_text(dialog):
    dialog.text.setText("2024-02-01")
    picked = datetime(2024, 1, 20, 8, 15, tzinfo=UTC)
    dialog.picker.setDateTime(QDateTime.fromSecsSinceEpoch(int(picked.timestamp())))
    assert dialog.text.text() == ""
    assert dialog.value() == picked


def test_latest_means_no_cursor(dialog):
    dialog.text.setText("nonsense")
    assert not ok(dialog).isEnabled()
    dialog.latest_choice.setChecked(True)  # the disabled text no longer blocks OK
    assert dialog.value() is None and not dialog.picker.isEnabled() and ok(dialog).isEnabled()


def test_no_cursor_yet_starts_on_latest_with_the_record_end_in_the_picker(qtbot):
    d = NowDialog(None, None, BOUNDS, locale=UK)
    qtbot.addWidget(d)
    assert d.latest_choice.isChecked() and d.value() is None
    assert from_qdatetime(d.picker.dateTime()) == BOUNDS[1]
    low = from_qdatetime(d.picker.minimumDateTime())
    assert BOUNDS[0] - timedelta(days=400) < low < BOUNDS[0]


def test_ask_now_returns_accepted_and_value(qtbot):
    def fill(d):
        d.text.setText("2024-03-04T10:00:00Z")
        d.accept()

    answer_modal(qtbot, fill)
    assert ask_now(None, None, BOUNDS) == (True, datetime(2024, 3, 4, 10, tzinfo=UTC))

    def latest(d):
        d.latest_choice.setChecked(True)
        d.accept()

    answer_modal(qtbot, latest)
    assert ask_now(None, BOUNDS[1], BOUNDS) == (True, None)
    answer_modal(qtbot, lambda d: d.reject())
    assert ask_now(None, BOUNDS[1], None) == (False, None)

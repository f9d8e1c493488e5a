"""Daten-Import without choosing a Gebietsstand: a file on the earlier areas for years before the change is taken
"by date" onto the earlier Gebietsstand, and the page says so (Issue 19)."""

from __future__ import annotations

from tests.app.test_versions_import import take_over, upload_on_earlier_areas


def test_import_by_date_without_choice(run_page, app_db, tmp_path):
    at, a, b, path = upload_on_earlier_areas(run_page, app_db, tmp_path)
    assert any("nach Datum dem Gebietsstand 1 zugeordnet" in i.value for i in at.info)
    _, gs = take_over(at, app_db, path)
    assert gs == 1

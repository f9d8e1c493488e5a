"""Bad files through the two upload pages in Chromium: each is refused with its German reason, the page keeps working.

The core and the command line are tested in tests/unit/test_upload_badfiles.py; this is the page path of the same
one reader (quartier/uploads.py), which the Handlungsempfehlungen upload once skipped.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_no_exception, open_page, wait_for_app
from tests.unit import ingest_files as bad

CASES = {
    "zip_bomb": (bad.zip_bomb, "ZIP-Bombe"),
    "encrypted": (bad.encrypted, "Kennwort"),
    "huge_dimension": (bad.huge_dimension, "Zellen"),
    "not_a_spreadsheet": (bad.not_a_spreadsheet, "keine Tabellendatei"),
}


def _upload(page, path, uploader: int = 0) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').nth(uploader).set_input_files(str(path))


@pytest.mark.parametrize("kind", sorted(CASES))
def test_daten_import_refuses_bad_files(server, page, tmp_path, kind):
    make, needle = CASES[kind]
    path = make(tmp_path / f"{kind}.xlsx")
    open_page(page, server, "daten-import", user="bearbeitung")
    _upload(page, path)
    page.locator('[data-testid="stAlertContentError"]', has_text=needle).first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    assert page.get_by_role("button", name="Lieferung übernehmen").count() == 0 or \
        page.get_by_role("button", name="Lieferung übernehmen").first.is_disabled()


@pytest.mark.parametrize("kind", sorted(CASES))
def test_recommendations_upload_refuses_bad_files(server, page, tmp_path, kind):
    make, needle = CASES[kind]
    path = make(tmp_path / f"{kind}.xlsx")
    open_page(page, server, "empfehlungen", user="bearbeitung")
    page.get_by_text("Excel: Katalog herunterladen oder Änderungen hochladen").click()
    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    uploader.first.wait_for(state="attached", timeout=30_000)
    uploader.first.set_input_files(str(path))
    page.locator('[data-testid="stAlertContentError"]', has_text=needle).first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    assert page.get_by_role("button", name="Alle Änderungen übernehmen").count() == 0

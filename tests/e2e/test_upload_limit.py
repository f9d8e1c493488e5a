"""A file over the 50 MB upload limit is refused in German, on both upload fields (issue 20).

Before, Streamlit's browser widget refused it with its own English "File must be 50.0MB or smaller".
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, open_page, wait_for_app

GERMAN = "überschreitet das Upload-Limit von 50 MB"


def _big_csv(tmp_path):
    path = tmp_path / "zu_gross.csv"
    line = b"Jahr;Sozialraum;Kennzahl;Wert\n" + b"2025;S01;Einwohner;12345\n" * 20
    with open(path, "wb") as f:
        while f.tell() < 51 * 1024 * 1024:
            f.write(line * 1000)
    return path


def _upload_and_expect_german(page, uploader, path) -> None:
    uploader.locator('input[type="file"]').set_input_files(str(path))
    expect(page.get_by_text(GERMAN).first).to_be_visible(timeout=120_000)
    wait_for_app(page)
    assert_no_exception(page)
    assert page.get_by_text("MB or smaller").count() == 0


def test_daten_import_refuses_51_mb_in_german(server, page, tmp_path):
    open_page(page, server, "daten-import", user="bearbeitung")
    _upload_and_expect_german(page, page.locator('[data-testid="stFileUploader"]').first, _big_csv(tmp_path))


def test_empfehlungen_upload_refuses_51_mb_in_german(server, page, tmp_path):
    open_page(page, server, "empfehlungen", user="bearbeitung")
    page.get_by_text("Excel: Katalog herunterladen oder Änderungen hochladen").click()
    uploader = page.locator('[data-testid="stFileUploader"]').first
    uploader.wait_for(timeout=30_000)
    _upload_and_expect_german(page, uploader, _big_csv(tmp_path))

"""Mein Bezirk in Chromium: opened by its address, the PDF report downloaded through the page."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.e2e.conftest import assert_no_exception, open_page, wait_for_app


@pytest.fixture
def downloader(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE", accept_downloads=True)
    pg = ctx.new_page()
    yield pg
    ctx.close()


def test_district_report_download(server, downloader, tmp_path):
    pg = downloader
    open_page(pg, server, "mein-bezirk?bezirk=Hohenlimburg", user="betrachtung")
    pg.get_by_role("heading", name="Anmeldung").wait_for(state="detached", timeout=30_000)
    wait_for_app(pg)
    assert_no_exception(pg)
    pg.get_by_role("heading", name="Mein Bezirk – Hohenlimburg").wait_for(timeout=30_000)
    assert "bezirk=hohenlimburg" in pg.url  # the URL names the district by its id after the first run
    btn = pg.get_by_role("button", name="Bezirksbericht als PDF herunterladen")
    btn.scroll_into_view_if_needed()
    with pg.expect_download(timeout=120_000) as info:
        btn.click()
    out = tmp_path / info.value.suggested_filename
    info.value.save_as(out)
    assert out.name.startswith("bezirksbericht_hohenlimburg_") and out.suffix == ".pdf"
    assert out.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "Bezirksbericht Hohenlimburg" in text and "Beispieldaten" in text and "Seite 1 von" in text

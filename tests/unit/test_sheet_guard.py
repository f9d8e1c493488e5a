"""The sheet-size guard reads every cell reference calamine honours, however the sheet XML writes it.

calamine places a cell by its own ``r`` (any attribute order, either quote, spaces around ``=``, lower-case letters,
leading zeros, a namespace prefix on the element), a cell without ``r`` next to the previous one, and allocates a
dense grid up to the largest position. Each file below has two cells, the second at (or beyond) XFD1048576 written
one such way; :func:`uploads.read_book` must refuse it before calamine opens the workbook.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from quartier import uploads
from tests.unit import ingest_files as F

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_FIXED = {
    "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
    'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="Daten" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>',
}
HEAD = '<c r="A1" t="inlineStr"><is><t>Jahr</t></is></c>'


def book(sheet_data: str, prefix: str = "", dimension: str = "") -> bytes:
    """A real .xlsx with one sheet „Daten“ whose ``<sheetData>`` is ``sheet_data`` (elements with ``prefix``)."""
    p = prefix + ":" if prefix else ""
    xmlns = f'xmlns:{prefix}="{NS}"' if prefix else f'xmlns="{NS}"'
    dim = f'<{p}dimension ref="{dimension}"/>' if dimension else ""
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><{p}worksheet {xmlns}>{dim}<{p}sheetData>'
           f'{sheet_data}</{p}sheetData></{p}worksheet>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in _FIXED.items():
            zf.writestr(name, text)
        zf.writestr("xl/worksheets/sheet1.xml", xml)
    return buf.getvalue()


BYPASSES = {
    "zelle_hinter_ihrer_zeile": '<row r="2"><c r="A2"><v>1</v></c><c r="XFD1048576"><v>2</v></c></row>',
    "r_nicht_erstes_attribut": f'<row r="1">{HEAD}<c t="n" r="XFD1048576"><v>2</v></c></row>',
    "einfache_anfuehrungszeichen": f"<row r='1'>{HEAD}<c r='XFD1048576'><v>2</v></c></row>",
    "leerzeichen_um_gleich": f'<row r="1">{HEAD}<c r = "XFD1048576"><v>2</v></c></row>',
    "tab_vor_r": f'<row r="1">{HEAD}<c\tr="XFD1048576"><v>2</v></c></row>',
    "kleinbuchstaben": f'<row r="1">{HEAD}<c r="xfd1048576"><v>2</v></c></row>',
    "fuehrende_null": f'<row r="1">{HEAD}<c r="XFD01048576"><v>2</v></c></row>',
    "vier_buchstaben": f'<row r="1">{HEAD}<c r="AAAA2000"><v>2</v></c></row>',
    "zweites_r": f'<row r="1">{HEAD}<c r="A2" r="XFD1048576"><v>2</v></c></row>',
    "zweites_r_mit_der_spalte": f'<row r="1">{HEAD}<c r="A1048576" r="XFD1"><v>2</v></c><c r="A1048576"><v>3</v></c></row>',
    "groesser_zeichen_im_wert": f'<row r="1">{HEAD}<c s=">" r="XFD1048576"><v>2</v></c></row>',
    "zellen_ohne_r": '<row r="1048576">' + "<c><v>1</v></c>" * 25 + "</row>",
    "ohne_r_nach_zelle_mit_r": f'<row r="1">{HEAD}<c r="XFD1048570"><v>1</v></c><c><v>2</v></c></row>',
}


@pytest.mark.parametrize("case", sorted(BYPASSES))
def test_every_written_form_of_a_far_cell_is_refused_before_calamine(case, no_calamine):
    with pytest.raises(uploads.FileRejected) as err:
        uploads.read_book(book(BYPASSES[case]), f"{case}.xlsx")
    assert err.value.kind == "zu_gross" and "zu groß" in str(err.value) and "Blatt „Daten“" in str(err.value)


def test_prefixed_namespace_is_refused_before_calamine(no_calamine):
    data = book('<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="XFD1048576"><x:v>2</x:v></x:c></x:row>', prefix="x")
    with pytest.raises(uploads.FileRejected, match="zu groß"):
        uploads.read_book(data, "praefix.xlsx")


def test_prefixed_cells_without_r_are_counted(no_calamine):
    data = book('<x:row r="1048576">' + "<x:c><x:v>1</x:v></x:c>" * 25 + "</x:row>", prefix="x")
    with pytest.raises(uploads.FileRejected, match="zu groß"):
        uploads.read_book(data, "praefix.xlsx")


@pytest.mark.parametrize("case", ["r_nicht_erstes_attribut", "zellen_ohne_r", "zelle_hinter_ihrer_zeile", "einfache_anfuehrungszeichen"])
@pytest.mark.parametrize("chunk", [5, 17, 64])
def test_references_cut_by_a_chunk_border_are_still_read(case, chunk):
    """The sheet XML is streamed in chunks; a tag cut in two at a chunk border counts like any other."""
    with zipfile.ZipFile(io.BytesIO(book(BYPASSES[case]))) as zf:
        whole = uploads._scan_extent(zf, "xl/worksheets/sheet1.xml")
        assert uploads._scan_extent(zf, "xl/worksheets/sheet1.xml", chunk=chunk) == whole
    assert whole[0] * whole[1] > uploads.MAX_CELLS


def test_a_usual_sheet_in_small_chunks_has_its_real_size():
    rows = "".join(f'<row r="{r}" spans="1:3" x14ac:dyDescent="0.25"><c r="A{r}" s="1" t="s"><v>0</v></c>'
                   f'<c r="C{r}" t="n"><v>{r}</v></c></row>' for r in range(1, 300))
    with zipfile.ZipFile(io.BytesIO(book(rows))) as zf:
        for chunk in (7, 100, 1 << 20):
            assert uploads._scan_extent(zf, "xl/worksheets/sheet1.xml", chunk=chunk) == (299, 3)


def test_libreoffice_style_sheet_is_read():
    rows = ('<row r="1" customFormat="false" ht="12.8" hidden="false" customHeight="false" outlineLevel="0" collapsed="false">'
            '<c r="A1" s="0" t="inlineStr"><is><t>Jahr</t></is></c><c r="B1" s="0" t="n"><v>2025</v></c></row>'
            '<row r="2" customFormat="false" ht="12.8" hidden="false" customHeight="false" outlineLevel="0" collapsed="false">'
            '<c r="A2" s="0" t="n"><v>1</v></c><c r="B2" s="0" t="n"><v>2</v></c></row>')
    raw = uploads.read_book(book(rows, dimension="A1:B2"), "libre.xlsx")
    assert raw.sheets[0].rows == [["Jahr", 2025], [1, 2]]


def test_openpyxl_workbook_passes_and_is_read(tmp_path):
    path = F.xlsx(tmp_path / "gut.xlsx", {"Daten": [["Jahr", "Wert", None, "x"], [2025, 1.5]]})
    raw = uploads.read_book(path.read_bytes(), path.name)
    assert raw.sheets[0].rows[0] == ["Jahr", "Wert", "", "x"]
    with zipfile.ZipFile(path) as zf:
        assert uploads.sheet_sizes(zf) == {"Daten": (2, 4)}


def test_a_far_cell_within_the_limit_is_measured_exactly():
    """Not refused when rows × columns stay under the limit; the size is what calamine allocates (or more)."""
    data = book(f'<row r="1">{HEAD}<c t="n" r="AB5000"><v>2</v></c></row>')
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert uploads.sheet_sizes(zf) == {"Daten": (5000, 28)}
    assert len(uploads.read_book(data, "weit.xlsx").sheets[0].rows) >= 4999


@pytest.mark.parametrize("limit", [1, 9, 10, 99, 100, 101, 109, 190, 999, 1000, 1234, 2000])
def test_at_most_pattern_matches_exactly_the_numbers_up_to_the_limit(limit):
    import re

    pat = re.compile(uploads._at_most(str(limit).encode(), uploads._DIGITS, b"1"))
    assert [n for n in range(1, 3000) if pat.fullmatch(str(n).encode())] == list(range(1, limit + 1))
    letters = re.compile(uploads._at_most(uploads._col_letters(limit), uploads._LETTERS, b"A"))
    assert [n for n in range(1, 3000) if letters.fullmatch(uploads._col_letters(n))] == list(range(1, limit + 1))


# ------------------------------------------------------------------------------------------------ OpenDocument

ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')


def ods(table_body: str) -> bytes:
    """A real .ods (mimetype first, stored) with one table „Daten“."""
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS} office:version="1.2"><office:body>'
               f'<office:spreadsheet><table:table table:name="Daten">{table_body}</table:table></office:spreadsheet>'
               "</office:body></office:document-content>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                    'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type='
                    '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" '
                    'manifest:media-type="text/xml"/></manifest:manifest>')
        zf.writestr("content.xml", content)
    return buf.getvalue()


@pytest.mark.parametrize("cell", [
    '<table:table-cell table:number-columns-repeated="16384" office:value-type="string"><text:p>x</text:p></table:table-cell>',
    '<table:table-cell table:number-columns-repeated="16384"><text:p>x</text:p></table:table-cell>',
])
def test_ods_repetition_bomb_is_refused_before_calamine(cell, no_calamine):
    """A few hundred bytes that make calamine expand 1,048,576 × 16,384 cells."""
    data = ods(f'<table:table-row table:number-rows-repeated="1048576">{cell}</table:table-row>')
    with pytest.raises(uploads.FileRejected) as err:
        uploads.read_book(data, "bombe.ods")
    assert err.value.kind == "zu_gross" and "zu groß" in str(err.value) and "Blatt „Daten“" in str(err.value)


def test_libreoffice_empty_repeated_tail_is_not_counted():
    value = '<table:table-cell office:value-type="float" office:value="2025"><text:p>2025</text:p></table:table-cell>'
    data = ods(f'<table:table-row>{value}{value}<table:table-cell table:number-columns-repeated="16382"/></table:table-row>'
               '<table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="16384"/>'
               "</table:table-row>")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert uploads.ods_sizes(zf) == {"Daten": (1, 2)}
        assert uploads.ods_sizes(zf, chunk=9) == {"Daten": (1, 2)}
    assert uploads.read_book(data, "libre.ods").sheets[0].rows == [[2025, 2025]]


def test_pandas_written_ods_passes(tmp_path):
    import pandas as pd

    path = tmp_path / "gut.ods"
    pd.DataFrame({"Jahr": [2024, 2025], "Wert": [1.5, 2.5]}).to_excel(path, engine="odf", index=False)
    raw = uploads.read_book(path.read_bytes(), path.name)
    assert raw.sheets[0].rows[0] == ["Jahr", "Wert"] and len(raw.sheets[0].rows) == 3


@pytest.mark.parametrize("sheet_data", [
    f'<row r="1">{HEAD}<c r="A2" s="<c t=\'n\'>" r="XFD1048576"><v>2</v></c></row>',
    '<row r="1"><c r="A1"><v>1</v></c></row><row s="<" r="1048576">' + "<c><v>1</v></c>" * 25 + "</row>",
])
def test_a_less_than_sign_in_a_value_at_any_chunk_border_hides_nothing(sheet_data):
    """calamine accepts "<" inside a quoted attribute value; wherever the chunk border falls, the tag is read whole."""
    with zipfile.ZipFile(io.BytesIO(book(sheet_data))) as zf:
        sizes = {uploads._scan_extent(zf, "xl/worksheets/sheet1.xml", chunk=chunk) for chunk in range(3, 90)}
    assert all(rows * cols > uploads.MAX_CELLS for rows, cols in sizes), sizes


def test_ods_tag_cut_by_any_chunk_border_or_a_less_than_sign_is_read_whole():
    data = ods('<table:table-row table:style-name="<" table:number-rows-repeated="1048576"><table:table-cell '
               'table:style-name="a<b" table:number-columns-repeated="16384" office:value-type="string"><text:p>x</text:p>'
               "</table:table-cell></table:table-row>")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for chunk in range(3, 120):
            with pytest.raises(uploads.FileRejected, match="zu groß"):
                uploads.ods_sizes(zf, chunk=chunk)


@pytest.mark.parametrize("sheet_tag", ['<sheet r:id="rId1" name="Daten" sheetId="1"/>', "<sheet name='Daten' sheetId='1' r:id='rId1'/>",
                                       '<x:sheet xmlns:x="' + NS + '" name="Daten" sheetId="1" r:id="rId1"/>'])
def test_sheet_found_however_workbook_xml_writes_it(sheet_tag, monkeypatch, no_calamine):
    """A sheet the guard cannot find in workbook.xml would be loaded unmeasured."""
    workbook = _FIXED["xl/workbook.xml"].replace('<sheet name="Daten" sheetId="1" r:id="rId1"/>', sheet_tag)
    assert sheet_tag in workbook
    monkeypatch.setitem(_FIXED, "xl/workbook.xml", workbook)
    with pytest.raises(uploads.FileRejected, match="zu groß"):
        uploads.read_book(book(BYPASSES["r_nicht_erstes_attribut"]), "mappe.xlsx")

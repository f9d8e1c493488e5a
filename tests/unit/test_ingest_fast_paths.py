"""The importer's shortcuts for speed (bench/RESULTS_import.md): each must give what the general path gives."""

from __future__ import annotations

import importlib
import io
import random
import re
import struct
import zipfile

import numpy as np
import pytest

from quartier import access, ingest, uploads
from quartier.access import Actor
from quartier.ingest import block
from quartier.ingest.match import Matcher
from tests.unit import ingest_files
from tests.unit.ingest_files import long_rows, xlsx

EDITOR = Actor("pruefer", access.EDITOR)
compare = importlib.import_module("quartier.ingest.compare")  # the module (the package exports a function of that name)


def analyse(con, path):
    return ingest.analyse_file(con, path.read_bytes(), path.name)


def _must_not_run(*_a, **_k):
    raise AssertionError("this path must not be taken here")


def test_values_of_a_year_nothing_is_stored_for_skip_the_join_and_are_new(con, tmp_path, monkeypatch):
    monkeypatch.setattr(compare, "_old_values", _must_not_run)
    path = xlsx(tmp_path / "neu.xlsx", {"D": long_rows([(2026, "M01", "sgb2_u18", 1, 100, 1.0),
                                                          (2026, "M02", "sgb2_u18", 2, 100, 2.0)])})
    fa = analyse(con, path)
    assert not fa.errors
    assert fa.counts() == {"new": 2, "changed": 0, "unchanged": 0, "suppressed": 0}
    assert fa.values["alt_lieferung"].isna().all() and not fa.values["alt_gesperrt"].any()
    assert list(fa.values["status"]) == ["neu", "neu"]


def test_one_stored_value_among_the_delivered_pairs_takes_the_join(con, tmp_path, monkeypatch):
    """2025 is stored for sgb2_u18: the change must be found although the 2026 value of the same file is new."""
    monkeypatch.setattr(compare, "_no_old_values", _must_not_run)
    path = xlsx(tmp_path / "gemischt.xlsx", {"D": long_rows([(2026, "M01", "sgb2_u18", 1, 100, 1.0),
                                                               (2025, "M01", "sgb2_u18", 1, 100, 1.0)])})
    fa = analyse(con, path)
    assert fa.counts()["new"] == 1 and fa.counts()["changed"] == 1
    assert list(fa.values["status"]) == ["neu", "geaendert"]
    assert any(f.rule == "aenderung" for f in fa.warnings)


def test_a_value_stored_only_by_a_withdrawn_delivery_counts_as_new(con, tmp_path):
    first = xlsx(tmp_path / "a.xlsx", {"D": long_rows([(2026, "M01", "sgb2_u18", 1, 100, 1.0)])})
    rep = ingest.commit(con, analyse(con, first), EDITOR, confirm_warnings=True)
    again = xlsx(tmp_path / "b.xlsx", {"D": long_rows([(2026, "M01", "sgb2_u18", 2, 100, 2.0)])})
    assert analyse(con, again).counts()["changed"] == 1
    ingest.withdraw(con, rep["lieferung_id"], EDITOR)
    fa = analyse(con, again)
    assert fa.counts()["new"] == 1 and fa.counts()["changed"] == 0


def test_few_header_cells_are_matched_as_the_factorised_path_matches_them(con):
    """The area column search matches a handful of cells one by one: same count and first row as by distinct values."""
    matcher = Matcher(con)
    pool = ["M01", "M02", " m01 ", "Eilpe/Delstern/Selbecke", "E01", "Stadtteil", "", None, float("nan"), 3.0, 7,
            "Summe", "unbekannt", "Hohenlimburg-Zentrum/Elsey"]
    rnd = random.Random(5)
    for _ in range(400):
        col = np.array([rnd.choice(pool) for _ in range(rnd.randint(1, 12))] + [None], dtype=object)[:-1]
        assert block._hits_few(col, matcher) == block._hits_many(col, matcher), list(col)


def test_wide_sheet_with_a_year_in_one_header_and_a_year_column_for_the_other(con, tmp_path):
    """One record block per sheet: groups with their own year next to groups reading the year column."""
    rows = [["Sozialraum", "Jahr", "Einwohner unter 18 Jahren 2024", "Einwohnerinnen und Einwohner"],
            ["M01", 2023, 100, 1000], ["M02", 2023, 200, 2000], ["M03", 2023, None, 3500]]
    fa = analyse(con, xlsx(tmp_path / "breit.xlsx", {"Daten": rows}))
    v = fa.values.sort_values(["indikator_id", "sozialraum_id"])
    got = [(r.indikator_id, r.sozialraum_id, int(r.jahr), float(r.wert), int(r.row0), int(r.wert_col)) for r in v.itertuples()]
    assert got == [("ew_gesamt", "M01", 2023, 1000.0, 1, 3), ("ew_gesamt", "M02", 2023, 2000.0, 2, 3),
                   ("ew_gesamt", "M03", 2023, 3500.0, 3, 3),
                   ("ew_u18", "M01", 2024, 100.0, 1, 2), ("ew_u18", "M02", 2024, 200.0, 2, 2)]


def _col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


@pytest.mark.parametrize("seed", range(4))
def test_sheet_size_guard_finds_the_largest_column_in_one_pass(seed):
    """The largest column referenced (the zip-bomb guard's width), whatever the declared dimension says."""
    rnd = random.Random(seed)
    for _ in range(2000):
        cols = [rnd.choice([rnd.randint(1, 30), rnd.randint(1, 26), rnd.randint(1, 800), rnd.randint(1, 3)])
                for _ in range(rnd.randint(0, 6))]
        body = b"".join(b'<c r="%s%d" t="n"><v>1</v></c>' % (_col(c).encode(), rnd.randint(1, 99)) for c in cols)
        known = rnd.choice([0, rnd.randint(0, 30), 26, 27])
        expected = max([known] + [sum((ord(ch) - 64) * 26 ** k for k, ch in enumerate(reversed(m)))
                                  for m in re.findall(r'<c r="([A-Z]+)', body.decode())])
        ext = uploads._Extent()
        ext.cols = known
        if not ext.fast(body, len(body)):
            ext.exact(body, len(body))
        assert ext.cols == expected, (body, known)


def _wrong_crc(data: bytes, member: str) -> bytes:
    """``data`` with the CRC-32 of ``member`` changed in its local header and in the central directory."""
    out = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    out[info.header_offset + 14] ^= 0xFF
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        n = struct.unpack("<H", data[pos + 28:pos + 30])[0]
        if data[pos + 46:pos + 46 + n] == member.encode():
            out[pos + 16] ^= 0xFF
        pos = data.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def test_sheet_with_a_wrong_checksum_is_measured_too(tmp_path, no_calamine):
    """The guard reads the sheet XML without checking its CRC (calamine does not check it either): a lying dimension
    plus a wrong checksum must not leave the sheet unmeasured (it was skipped before), so calamine never loads it."""
    src = ingest_files.huge_dimension(tmp_path / "riesig.xlsx")
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            body = zin.read(item)
            if item.filename.startswith("xl/worksheets/"):
                body = body.replace(b'ref="A1:XFD1048576"', b'ref="A1"')
            zout.writestr(item, body)
    data = _wrong_crc(buf.getvalue(), "xl/worksheets/sheet1.xml")
    with pytest.raises(zipfile.BadZipFile):  # the checksum is really wrong
        zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    with pytest.raises(uploads.FileRejected) as err:
        uploads.read_book(data, "riesig.xlsx")
    assert err.value.kind == "zu_gross" and "16.384 Spalten" in str(err.value)


def test_a_normal_sheet_with_a_wrong_checksum_is_refused_as_before(tmp_path):
    """Measured by the guard now, then refused as damaged by calamine's own check, as before."""
    path = xlsx(tmp_path / "d.xlsx", {"D": long_rows([(2025, "M01", "sgb2_u18", 1, 100, 1.0)])})
    with pytest.raises(uploads.FileRejected) as err:
        uploads.read_book(_wrong_crc(path.read_bytes(), "xl/worksheets/sheet1.xml"), "d.xlsx")
    assert err.value.kind == "beschaedigt"


def test_names_normalise_as_before():
    """Accents go with the final pattern, NFKD only for non-ASCII text: the same keys as the per-character version."""
    from quartier.names import normalize

    cases = {"Wehringhausen-Ost": "wehringhausenost", "Straße": "strasse", "Élysée": "elysee", "Ñandú": "nandu",
             "ﬁle": "file", "Ä Ö Ü": "aeoeue", "B 7": "b7", "x\u0301": "x", "Nr.\u00a012": "nr12", "²": "2", None: "",
             0: "", 12.0: "120", "  Summe  ": "summe", "İ": "i"}
    assert {k: normalize(k) for k in cases} == cases


def test_text_column_without_empty_cells_is_classified_as_with_them():
    from quartier.ingest import values as V

    texts = np.array(["a", "", " b", "c"], dtype=object)
    assert list(V.classify(texts)) == [V.K_STR, V.K_EMPTY, V.K_STR, V.K_STR]
    with_none = np.array(["a", "", None, float("nan"), "c"], dtype=object)
    assert list(V.classify(with_none)) == [V.K_STR, V.K_EMPTY, V.K_EMPTY, V.K_EMPTY, V.K_STR]


def test_value_columns_classified_together_as_one_by_one():
    """A sheet's value columns holding only numbers and empty cells get one type inference for all; kinds as per column."""
    from datetime import date

    from quartier.ingest import extract
    from quartier.ingest import values as V

    nan = float("nan")
    rows = [[1, 2.5, "", None, "x", " ", True, date(2025, 1, 1)],
            [3, "", 4, nan, "", 5, 1, 2],
            [2.0, 7, "", "", "y", "", 0, ""]]
    numeric = [0, 1, 2, 3]       # numbers, "", None, NaN: together in one pass
    g = extract._Grid(rows)
    g.classify(numeric)
    assert sorted(g.kinds) == numeric
    for c in numeric:
        assert list(g.kinds[c]) == list(V.classify(extract._Grid(rows).raw(c))), c
    assert (g.any_filled(numeric) == [True, True, True]).all()
    assert [list(g.kinds[c]) for c in numeric] == [[V.K_NUM] * 3, [V.K_NUM, V.K_EMPTY, V.K_NUM],
                                                      [V.K_EMPTY, V.K_NUM, V.K_EMPTY], [V.K_EMPTY] * 3]
    for other in (4, 5, 6, 7):  # text, " ", booleans, a date next to numbers: left to the per-column path
        g2 = extract._Grid(rows)
        g2.classify([0, other])
        assert g2.kinds == {}
        assert list(g2.col(other)[1]) == list(V.classify(g2.raw(other)))


def test_duplicate_keys_are_found_by_counting_before_any_sort():
    from quartier.ingest import validate

    ind, sr, year = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), np.array([2024, 2024, 2024, 2025])
    assert not validate._may_repeat(ind, sr, year)
    assert not validate._may_repeat(ind, sr, np.full(4, 2024))
    assert validate._may_repeat(np.array([0, 0]), np.array([1, 1]), np.array([2024, 2024]))
    assert validate._may_repeat(np.array([0, 5000]), np.array([0, 5000]), np.array([1990, 2025]))  # range too large: sort
    assert not validate._may_repeat(np.array([0]), np.array([0]), np.array([2024]))

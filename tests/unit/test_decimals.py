"""Issue 16: a fixed number of decimals per indicator (catalogue field ``dezimalstellen``), used by the one
formatter in tables, charts (axis and tooltip), PDF and exports."""

from __future__ import annotations

import csv
import subprocess

import pytest

from quartier import db
from quartier import format as fmt
from quartier.access import SYSTEM
from quartier.values import indicators


def test_default_decimals_by_unit_and_field():
    assert fmt.decimals_for("%") == 1 and fmt.decimals_for("je 1.000") == 1 and fmt.decimals_for("Anzahl") == 0
    assert fmt.decimals_for("%", 2) == 2 and fmt.decimals_for("Anzahl", 1) == 1
    assert fmt.decimals_for("%", float("nan")) == 1 and fmt.decimals_for("%", None) == 1
    assert fmt.value(12.3456, "%", 2) == "12,35 %" and fmt.value(12.3456, "%") == "12,3 %"
    assert fmt.value(1234.0, "Anzahl") == "1.234" and fmt.value(1234.26, "Anzahl", 1) == "1.234,3"
    assert fmt.change(-0.004, "%", 2) == "±0,00 Pp." and fmt.change(1.236, "%", 2) == "+1,24 Pp."
    assert fmt.d3_format(2) == ",.2f"


def _set_places(db_path, tmp_path, iid: str, places) -> None:
    """Export the catalogue, set ``dezimalstellen`` for one indicator in the file and load it again."""
    con = db.connect(db_path)
    try:
        out = indicators.export_catalogue(con, tmp_path / "katalog.csv")
        with open(out, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter=";"))
        assert "dezimalstellen" in rows[0]
        for r in rows:
            if r["id"] == iid:
                r["dezimalstellen"] = str(places)
        with open(out, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=";")
            w.writeheader()
            w.writerows(rows)
        indicators.load_catalogue(con, out)
    finally:
        con.close()


def _headline_rate(db_path) -> str:
    """A headline indicator measured in %."""
    con = db.connect(db_path)
    try:
        cat = indicators.catalogue(con).set_index("id")
        return next(i for i in indicators.headline_ids(con) if cat.loc[i, "einheit"] == "%")
    finally:
        con.close()


def test_catalogue_field_round_trip(demo_copy, tmp_path):
    iid = _headline_rate(demo_copy)
    _set_places(demo_copy, tmp_path, iid, 2)
    con = db.connect(demo_copy)
    try:
        cat = indicators.catalogue(con)
        dec = indicators.decimals(cat)
        assert dec[iid] == 2
        counts = cat.loc[cat["einheit"] == "Anzahl", "id"]
        assert all(dec[i] == 0 for i in counts) and len(counts)
        assert all(dec[i] == 1 for i in cat["id"] if i != iid and i not in set(counts))
        frame = indicators.catalogue_file_frame(con).set_index("id")
        assert int(frame.loc[iid, "dezimalstellen"]) == 2 and frame["dezimalstellen"].isna().sum() == len(frame) - 1
    finally:
        con.close()


def test_catalogue_rejects_bad_places(demo_copy, tmp_path):
    iid = _headline_rate(demo_copy)
    with pytest.raises(indicators.CatalogueError, match="dezimalstellen"):
        _set_places(demo_copy, tmp_path, iid, "1,5")
    with pytest.raises(indicators.CatalogueError, match="dezimalstellen"):
        _set_places(demo_copy, tmp_path, iid, 7)


def test_two_decimals_in_charts_and_pdf(demo_copy, tmp_path, cli):
    from quartier.reports import charts as report_charts
    from quartier.reports import scope as report_scope
    from quartier.reports import summary
    from quartier.values import charts, series

    iid = _headline_rate(demo_copy)
    _set_places(demo_copy, tmp_path, iid, 2)
    con = db.connect(demo_copy)
    try:
        unit = indicators.catalogue(con).set_index("id").loc[iid, "einheit"]
        w, year = con.execute("SELECT wert, jahr FROM messwert_aktuell WHERE indikator_id = ? AND sozialraum_id = 'M04'"
                              " AND wert IS NOT NULL ORDER BY jahr DESC LIMIT 1", [iid]).fetchone()
        # time series chart: axis format and the tooltip text
        data = series.load_series(con, [iid], ["M04"], actor=SYSTEM)
        dec = indicators.decimals(indicators.catalogue(con))[iid]
        frame = charts.line_frame(data.values, data.refs, iid, unit, decimals=dec)
        spec = charts.line_chart(frame, "x", unit, decimals=dec).to_dict()
        assert '",.2f"' in str(spec).replace("'", '"')
        row = frame[(frame["reihe"].str.endswith("(M04)")) & (frame["jahr"] == year)].iloc[0]
        assert row["wert_text"] == fmt.value(w, unit, 2)
        # report chart (Mein Bezirk page and PDF)
        sm = summary.summary(con, report_scope.sozialraum_scope(con, "M04"), actor=SYSTEM)
        dev = sm.development
        assert iid in set(dev["indikator_id"])
        rspec = report_charts.chart_spec(dev, iid, "x", unit, decimals=summary.decimals_of(
            indicators.catalogue(con).set_index("id"), iid)).to_dict()
        assert '",.2f"' in str(rspec).replace("'", '"')
        assert fmt.value(w, unit, 2) in set(dev.loc[dev["indikator_id"] == iid, "wert_text"])
    finally:
        con.close()
    pdf = tmp_path / "m04.pdf"
    p = cli("report", "--sozialraum", "M04", "--out", str(pdf), "--db", str(demo_copy), "--rohwerte")
    assert p.returncode == 0, p.stderr
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    assert fmt.value(w, unit, 2) in text

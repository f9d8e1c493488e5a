"""Issue 16: the catalogue's ``dezimalstellen`` also reach the Wirkungsblick, the Hinweise texts, the corridor
(sentence, tables, charts), the map legend, the PDF map, the small multiples, the import preview and the CLI;
``index --year`` does not rank an incompletely delivered year."""

from __future__ import annotations

import json
import re

import pandas as pd

from quartier import db
from quartier import format as fmt
from quartier.access import SYSTEM
from quartier.values import indicators
from tests.coverage_files import INCOMPLETE_TEXT, PARTIAL_YEAR, import_partial
from tests.unit.test_decimals import _set_places

PLACES = 4  # nothing is shown with 4 decimals by default (p-values have 3): such a number can only come from the field


def _many_decimals(text: str) -> list[str]:
    """German numbers with exactly ``PLACES`` decimals in ``text``."""
    return re.findall(r"(?<![\d,])\d{1,3}(?:\.\d{3})*,\d{" + str(PLACES) + r"}(?!\d)", text)


def _unit(con, iid: str) -> str | None:
    return indicators.catalogue(con).set_index("id").loc[iid, "einheit"]


def test_wirkungsblick_uses_the_indicator_decimals(demo_copy, tmp_path):
    from quartier.actions import effect

    con = db.connect(demo_copy)
    try:
        rid = con.execute("SELECT e.id FROM empfehlung e JOIN empfehlung_indikator i ON i.empfehlung_id = e.id"
                          " WHERE e.beginn_ist IS NOT NULL ORDER BY e.id LIMIT 1").fetchone()[0]
        before = effect.effect(con, rid, actor=SYSTEM)["indikatoren"][0]
        iid = before["id"]
    finally:
        con.close()
    assert before["dezimalstellen"] in (0, 1) and not _many_decimals(before["aussage"])
    _set_places(demo_copy, tmp_path, iid, PLACES)
    con = db.connect(demo_copy)
    try:
        item = next(i for i in effect.effect(con, rid, actor=SYSTEM)["indikatoren"] if i["id"] == iid)
    finally:
        con.close()
    assert item["dezimalstellen"] == PLACES
    p = next(p for p in item["perioden"].values() if p["vorher"] is not None)
    assert fmt.value(p["vorher"], item["einheit"], PLACES) in item["aussage"]
    assert fmt.change(p["veraenderung"], item["einheit"], PLACES) in item["aussage"]
    # the chart of the page: axis format and tooltip text with the same decimals
    from quartier.actions import charts

    spec = json.dumps(charts.indicator_lines(item["reihe"], "x", item["einheit"], 2022, decimals=PLACES).to_dict())
    assert '",.4f"' in spec and fmt.value(item["reihe"]["wert"].dropna().iloc[0], item["einheit"], PLACES) in spec


def test_hinweise_texts_use_the_indicator_decimals(demo_copy, tmp_path):
    from quartier.alerts import hinweise

    con = db.connect(demo_copy)
    try:
        ids = set(indicators.catalogue(con)["id"])
        before = [h for h in hinweise.hinweise(con, actor=SYSTEM) if h.indikator in ids and isinstance(h.neu, float)]
        iid = before[0].indikator
        keys_before = [(h.sozialraum, h.art, h.alt, h.neu) for h in before if h.indikator == iid]
        json_before = [h.to_json() for h in before if h.indikator == iid]
    finally:
        con.close()
    assert not any(_many_decimals(h.text) for h in before if h.indikator == iid)
    _set_places(demo_copy, tmp_path, iid, PLACES)
    con = db.connect(demo_copy)
    try:
        after = [h for h in hinweise.hinweise(con, actor=SYSTEM) if h.indikator == iid]
        unit = _unit(con, iid)
    finally:
        con.close()
    assert [(h.sozialraum, h.art, h.alt, h.neu) for h in after] == keys_before   # same findings, same numbers
    assert [{k: v for k, v in h.to_json().items() if k != "text"} for h in after] == \
        [{k: v for k, v in j.items() if k != "text"} for j in json_before]     # the JSON contract unchanged
    assert all(fmt.value(h.neu, unit, PLACES) in h.text for h in after)


def _axis_iid(con) -> str:
    """A rate indicator with values in its latest year (for the corridor)."""
    cat = indicators.catalogue(con)
    return next(i for i, u in zip(cat["id"], cat["einheit"]) if u == "%")


def test_corridor_sentence_tables_charts_and_cli(demo_copy, tmp_path, cli):
    from quartier.areas import corridor, corridor_charts

    con = db.connect(demo_copy)
    try:
        iid = _axis_iid(con)
        year = con.execute("SELECT max(jahr) FROM messwert_aktuell WHERE indikator_id = ?", [iid]).fetchone()[0]
        res = corridor.analyse(con, iid, year, 800, actor=SYSTEM)
        assert res.dec == 1 and not _many_decimals(res.sentence)
    finally:
        con.close()
    _set_places(demo_copy, tmp_path, iid, PLACES)
    con = db.connect(demo_copy)
    try:
        res = corridor.analyse(con, iid, year, 800, actor=SYSTEM)
        years = corridor.over_years(con, iid, 800, actor=SYSTEM)
    finally:
        con.close()
    assert res.dec == PLACES
    assert fmt.value(res.inside["value"], res.unit, PLACES) in res.sentence
    assert fmt.value(res.outside["value"], res.unit, PLACES) in res.sentence
    summary = corridor.result_tables(res)
    assert fmt.value(res.inside["value"], res.unit, PLACES) in set(next(iter(summary.values()))["Wert"])
    scatter = json.dumps(corridor_charts.scatter_chart(res).to_dict())
    assert '",.4f"' in scatter
    trend = json.dumps(corridor_charts.years_chart(years, res.indicator_name, res.unit, res.axis, 800,
                                                   decimals=res.dec).to_dict())
    assert '",.4f"' in trend
    p = cli("corridor", "--indicator", iid, "--year", str(year), "--width", "800", "--db", str(demo_copy))
    assert p.returncode == 0, p.stderr
    row = res.areas[res.areas["wert"].notna() & ~res.areas["gesperrt"]].iloc[0]
    assert fmt.value(row["wert"], res.unit, PLACES) in p.stdout


def test_map_legend_and_pdf_map(demo_copy, tmp_path):
    from quartier.areas import classes
    from quartier.reports import scope as report_scope
    from quartier.reports import svgmap

    values = pd.Series([1.23456, 2.5, 3.75, 4.0, 5.5, 6.125])
    default = classes.legend(classes.classify(values, "%", "higher", "equal", 3))
    assert not any(_many_decimals(e["label"]) for e in default)
    cls = classes.classify(values, "%", "higher", "equal", 3, decimals=PLACES)
    labels = [e["label"] for e in classes.legend(cls) if e["kind"] == "class"]
    assert labels[0].startswith(fmt.number(cls.edges[0], PLACES)) and all(_many_decimals(t) for t in labels)

    con = db.connect(demo_copy)
    try:
        iid = report_scope.rank_indicator(con)
        sc = report_scope.sozialraum_scope(con, "M04")
        md0 = svgmap.map_data(con, sc, actor=SYSTEM)
    finally:
        con.close()
    assert md0.classes and not any(_many_decimals(c) for c in md0.classes)
    _set_places(demo_copy, tmp_path, iid, PLACES)
    con = db.connect(demo_copy)
    try:
        md = svgmap.map_data(con, sc, actor=SYSTEM)
    finally:
        con.close()
    assert all(len(_many_decimals(c)) == 2 for c in md.classes)
    shown = [t for t in md.areas["wert_text"] if t and t not in (fmt.NOTHING, fmt.SUPPRESSED)]
    assert shown and all(_many_decimals(t) for t in shown)


def test_small_multiples_axis_per_indicator():
    from quartier.values import charts
    from tests.unit.test_charts import _values

    values, refs = _values()
    counts = values.assign(indikator_id="ew", wert=values["wert"] * 100)
    meta = pd.DataFrame({"id": ["q", "ew"], "kurzname": ["Quote", "Einwohner"], "einheit": ["%", "Anzahl"],
                         "dezimalstellen": [PLACES, None]}).set_index("id")
    f = charts.multiples_frame(pd.concat([values[values["sozialraum_id"] == "M04"], counts[counts["sozialraum_id"] == "M04"]]),
                               refs, meta, city="Stadt")
    spec = charts.small_multiples(f).to_dict()
    formats = [p["layer"][0]["encoding"]["y"]["axis"]["format"] for p in spec["concat"]]
    assert formats == [",.4f", ",.0f"]
    w = values.loc[values["sozialraum_id"] == "M04", "wert"].dropna().iloc[0]
    assert fmt.value(w, "%", PLACES) in set(f["wert_text"])


def test_import_preview_changes_with_indicator_decimals():
    from quartier.ui.imports import changes_table

    ch = pd.DataFrame({"indikator_id": ["q", "ew"], "sozialraum_id": ["M04", "M04"], "jahr": [2024, 2024],
                       "alt_wert": [12.3456, 1234.0], "wert": [12.3411, 1240.0], "alt_lieferung": [1, 1]})
    show = changes_table(ch, {"q": PLACES, "ew": 0})
    assert list(show["bisher"]) == ["12,3456", "1.234"] and list(show["neu"]) == ["12,3411", "1.240"]


def test_index_cli_refuses_an_incomplete_year(demo_copy, tmp_path, cli, capsys):
    import_partial(demo_copy, tmp_path)
    capsys.readouterr()
    p = cli("index", "--year", str(PARTIAL_YEAR), "--json", "--db", str(demo_copy))
    assert p.returncode == 1
    assert p.stdout.strip() == ""                   # --json: nothing but JSON on stdout, and no ranking
    assert INCOMPLETE_TEXT in p.stderr and f"{PARTIAL_YEAR} ist unvollständig" in p.stderr
    ok = cli("index", "--year", str(PARTIAL_YEAR - 1), "--json", "--db", str(demo_copy))
    assert ok.returncode == 0 and json.loads(ok.stdout)["year"] == PARTIAL_YEAR - 1


def test_hinweise_table_alt_neu_with_indicator_decimals():
    from quartier.ui.hinweise import table

    frame = pd.DataFrame({"sozialraum_id": ["M04", "M04", "M04"], "sozialraum": ["Mitte"] * 3,
                          "indikator": ["q", "ew", "Methode"], "jahr": [2024] * 3, "art": ["Sprung"] * 3,
                          "alt": [12.34567, 1234.0, "mittel"], "neu": [13.5, 1240.4, "hoch"], "text": ["t"] * 3,
                          "schlechter": [True, None, True]})
    show = table(frame, {"q": PLACES, "ew": 0})
    assert list(show["alt"]) == ["12,3457", "1.234", "mittel"] and list(show["neu"]) == ["13,5000", "1.240", "hoch"]

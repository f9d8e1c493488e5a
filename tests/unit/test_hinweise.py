"""Issue 18 §2: each kind of Hinweis on a hand-made small city (each test fails with its rule removed),
order, scope (--lieferung, --bezirk), the CLI contract and the viewer's protected view."""

from __future__ import annotations

import json

import pytest

from quartier import db
from quartier.access import PUBLIC, SYSTEM
from quartier.alerts import hinweise as hw
from quartier.cli import main
from quartier.need import method as need_method

SQUARE = '{"type": "Polygon", "coordinates": [[[7.0, 51.0], [7.01, 51.0], [7.01, 51.01], [7.0, 51.01], [7.0, 51.0]]]}'
YEARS = list(range(2019, 2026))
# indicator q (%, higher = more need, Schwelle 40): (values 2019..2025, denominator)
Q = {
    "R1": ([37, 36, 41, 37, 40, 38, 40.5], 200),      # crosses 40, small base: neither auffällig nor a trend break
    "R2": ([22, 20, 24, 19, 25, 21, 23], 10_000),     # +2 points on 10,000: auffällig; noisy history: no trend break
    "R3": ([8, 10, 12, 14, 16, 18, 18.2], 10_000),    # a steady rise that stops: trend break, change not auffällig
    "R4": ([30] * 7, 1000),
    "R5": ([30] * 7, 1000),
    "R6": ([30] * 7, 1000),
    "R7": ([4, 4, 4, 4, 4, 4, 0.2], 1000),            # 40 -> 2 cases: auffällig for staff, protected for viewers
}
# indicator k (%, value only, 2024/2025) drives the index: R6 "sehr hoch" in 2024, R5 in 2025
K = {2024: {"R6": 40}, 2025: {"R5": 40}}
AREAS = sorted(Q)


def _fill_city(con):
    with db.transaction(con) as cur:
        cur.execute("INSERT INTO stadtbezirk (id, nr, name) VALUES ('nord', 1, 'Nord'), ('sued', 2, 'Süd')")
        for sid in AREAS:
            cur.execute("INSERT INTO sozialraum (id, name, bezirk_id, geometry) VALUES (?, ?, ?, ?)",
                        [sid, f"Raum {sid}", "nord" if sid <= "R4" else "sued", SQUARE])
        cur.execute("INSERT INTO indikator (id, name, kurzname, einheit, richtung, schwelle) VALUES "
                    "('q', 'Quote q', 'Q', '%', 'higher', 40), ('k', 'Kennzahl k', 'K', '%', 'higher', NULL)")
        for lid, name in ((1, "alt.xlsx"), (2, "neu.xlsx")):
            cur.execute("INSERT INTO lieferung (id, dateiname, sha256, lieferant, berichtsjahr, importiert_von, importiert_am)"
                        " VALUES (?, ?, 'x', 'Test', 2025, 'test', ?)", [lid, name, f"2025-0{lid}-15 10:00"])
        for sid, (vals, den) in Q.items():
            for y, v in zip(YEARS, vals):
                cur.execute("INSERT INTO messwert VALUES (?, 'q', ?, ?, ?, ?, ?, false)",
                            [2 if y == 2025 else 1, sid, y, v, round(v * den / 100), den])
        for y in (2024, 2025):
            for sid in AREAS:
                cur.execute("INSERT INTO messwert VALUES (?, 'k', ?, ?, ?, NULL, NULL, false)",
                            [2 if y == 2025 else 1, sid, y, K[y].get(sid, 10)])
    need_method.save_method(con, {
        "name": "Testindex", "kind": "zscore", "indicators": [{"id": "k", "weight": 1, "direction": "higher"}],
        "population_indicator": None, "min_population": 0, "max_missing_share": 0.25,
        "cutoffs": [-1.0, 1.0, 1.5], "classes": ["niedrig", "mittel", "hoch", "sehr hoch"], "dynamics_years": 1,
        "dynamics_cutoffs": [-1.0, 1.0], "dynamics_classes": ["Verbesserung", "stabil", "Verschlechterung"],
    }, SYSTEM)
    return con


@pytest.fixture
def city(filled_con):
    return filled_con(_fill_city)


def kinds(items, sid):
    return sorted(h.art for h in items if h.sozialraum == sid)


def test_schwelle(city):
    items = hw.hinweise(city, actor=SYSTEM)
    assert kinds(items, "R1") == ["schwelle"]
    h = next(h for h in items if h.sozialraum == "R1")
    assert (h.indikator, h.jahr, h.alt, h.neu, h.schlechter) == ("q", 2025, 38, 40.5, True)
    assert "Schwelle 40,0 % überschritten" in h.text


def test_auffaellig(city):
    items = hw.hinweise(city, actor=SYSTEM)
    assert kinds(items, "R2") == ["auffaellig"]
    h = next(h for h in items if h.sozialraum == "R2")
    assert "z-Test" in h.text and (h.alt, h.neu) == (21, 23)


def test_trendbruch(city):
    items = hw.hinweise(city, actor=SYSTEM)
    assert kinds(items, "R3") == ["trendbruch"]
    h = next(h for h in items if h.sozialraum == "R3")
    assert h.alt == pytest.approx(20.0) and h.neu == 18.2  # alt = the value the line 2020–2024 predicts
    assert "lineare Fortschreibung ± 2 Standardabweichungen" in h.text


def test_klassenwechsel(city):
    items = hw.hinweise(city, actor=SYSTEM)
    changes = {h.sozialraum: (h.alt, h.neu) for h in items if h.art == "klassenwechsel"}
    assert changes == {"R5": ("mittel", "sehr hoch"), "R6": ("sehr hoch", "mittel")}
    assert all(h.indikator == "Testindex" and h.jahr == 2025 for h in items if h.art == "klassenwechsel")


def test_quiet_areas_and_order(city):
    items = hw.hinweise(city, actor=SYSTEM)
    assert kinds(items, "R4") == []
    order = [(h.sozialraum, h.art) for h in items]
    # worsening first (class change up, threshold, ...), then improvements in the same order of kinds
    assert order[0] == ("R5", "klassenwechsel")
    better = [(h.sozialraum, h.art) for h in items if h.schlechter is False]
    assert better[0] == ("R6", "klassenwechsel") and better[-1] == ("R7", "auffaellig")
    assert order[-len(better):] == better
    assert order.index(("R1", "schwelle")) < order.index(("R2", "auffaellig"))


def test_viewer_sees_only_protected_values(city):
    staff = hw.hinweise(city, actor=SYSTEM)
    assert "auffaellig" in kinds(staff, "R7")
    viewer = hw.hinweise(city, actor=PUBLIC)
    assert kinds(viewer, "R7") == []  # 2 cases in 2025 are protected: no Hinweis reveals them
    assert "schwelle" in kinds(viewer, "R1")


def test_scope_and_cli(city, tmp_path, capsys):
    path = city.execute("PRAGMA database_list").fetchall()[0][2]
    assert hw.hinweise(city, actor=SYSTEM, lieferung=1) and all(h.jahr == 2024 for h in
                                                                  hw.hinweise(city, actor=SYSTEM, lieferung=1)
                                                                  if h.art != "klassenwechsel")
    city.close()
    assert main(["hinweise", "--db", path, "--lieferung", "2", "--bezirk", "Nord", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out and all(set(h) == {"sozialraum", "indikator", "jahr", "art", "alt", "neu", "text"} for h in out)
    assert {h["sozialraum"] for h in out} <= {"R1", "R2", "R3", "R4"}
    assert {h["art"] for h in out} == {"schwelle", "auffaellig", "trendbruch"}
    assert main(["hinweise", "--db", path, "--seit", "2025-02-01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["art"] == "klassenwechsel"
    assert main(["hinweise", "--db", path, "--bezirk", "Atlantis", "--json"]) == 2
    assert main(["hinweise", "--db", path, "--lieferung", "99"]) == 2

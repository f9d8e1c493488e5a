"""Issue 18 §3: comparable areas on a hand-made example with a known ranking, ties, defaults and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from quartier import db
from quartier.access import SYSTEM
from quartier.alerts import similar
from quartier.cli import main

SQUARE = '{"type": "Polygon", "coordinates": [[[7.0, 51.0], [7.01, 51.0], [7.01, 51.01], [7.0, 51.01], [7.0, 51.0]]]}'
A = {"A1": 0, "A2": 1, "A3": 2, "A4": 3, "A5": 4}
B = {"A1": 10, "A2": 10, "A3": None, "A4": 30, "A5": 10}


@pytest.fixture
def hand(empty_con):
    con = empty_con
    with db.transaction(con) as cur:
        for sid in A:
            cur.execute("INSERT INTO sozialraum (id, name, geometry) VALUES (?, ?, ?)", [sid, f"Raum {sid}", SQUARE])
        cur.execute("INSERT INTO indikator (id, name, einheit) VALUES ('a', 'A', '%'), ('b', 'B', '%'), ('n', 'N', 'Anzahl')")
        cur.execute("INSERT INTO lieferung (id, dateiname, sha256, importiert_von) VALUES (1, 'x.xlsx', 'x', 't')")
        for sid in A:
            cur.execute("INSERT INTO messwert VALUES (1, 'a', ?, 2024, ?, NULL, NULL, false)", [sid, A[sid]])
            if B[sid] is not None:
                cur.execute("INSERT INTO messwert VALUES (1, 'b', ?, 2024, ?, NULL, NULL, false)", [sid, B[sid]])
            cur.execute("INSERT INTO messwert VALUES (1, 'n', ?, 2024, 5, NULL, NULL, false)", [sid])
    return con


def test_known_ranking(hand):
    # z(a) = (-2,-1,0,1,2)/sqrt2; z(b) over A1,A2,A4,A5 (mean 15, population SD sqrt 75) = (-1,-1,·,3,-1)/sqrt3
    res = similar.similar(hand, "A1", 2024, k=4, actor=SYSTEM)
    assert res["indikatoren"] == ["a", "b"]  # default without a saved method: the rate indicators (not counts)
    got = [(r["id"], r["distanz"]) for r in res["aehnliche"]]
    expected = [("A2", 1 / math.sqrt(2)), ("A3", 2.0),  # A3 has only a: sqrt(2 / 1 * 2)
                ("A5", 2 * math.sqrt(2)), ("A4", math.sqrt(4.5 + 16 / 3))]
    assert [g[0] for g in got] == [e[0] for e in expected]
    for (_, d), (_, e) in zip(got, expected):
        assert d == pytest.approx(e, abs=1e-6)
    assert res["aehnliche"][0]["naechste_indikatoren"] == ["b", "a"]  # equal in b, differ in a


def test_ties_by_id_and_k():
    Z = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    out = similar.rank(Z, ["Z9", "C", "B", "A"], 0, 2)
    assert [i for i, _, _ in out] == [3, 2]  # all at distance 1: A, B (C left out by k)


def test_cli_contract(hand, capsys):
    path = hand.execute("PRAGMA database_list").fetchall()[0][2]
    hand.close()
    assert main(["aehnliche", "--db", path, "--sozialraum", "A4", "--jahr", "2024", "--anzahl", "2",
                 "--indikatoren", "a", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"sozialraum", "jahr", "indikatoren", "aehnliche"}
    assert out["indikatoren"] == ["a"] and [r["id"] for r in out["aehnliche"]] == ["A3", "A5"]
    assert set(out["aehnliche"][0]) == {"id", "name", "distanz", "naechste_indikatoren"}
    assert main(["aehnliche", "--db", path, "--sozialraum", "XX", "--jahr", "2024"]) == 2
    assert main(["aehnliche", "--db", path, "--sozialraum", "A1", "--jahr", "2024", "--indikatoren", "zz"]) == 2


def test_default_is_saved_method(con):
    from quartier.need import method as need_method

    res = similar.similar(con, "M04", 2025, actor=SYSTEM)
    assert res["indikatoren"] == need_method.methods(con)["methode"].iloc[0].indicator_ids
    assert len(res["aehnliche"]) == 5

"""Stored re-allocation of values of earlier Gebietsstände to today's areas (Issue 19, migration 018).

``messwert_umgerechnet`` holds, for every (indicator, year) without a delivery in the current Gebietsstand, the
values delivered in an earlier Gebietsstand re-allocated through ``gebietsstand_schluessel``: counts, numerators
and denominators by their share (sums preserved), rates recomputed from the re-allocated numerators and
denominators (never averaged), rates without them only where the new area maps 1:1 (both shares above 0.95),
otherwise empty with a reason. The rules are those of the view of migration 011 (tests/unit/test_realloc.py
compares both), computed once instead of on every read: one pass in which only new areas fed by several old
ones are aggregated (by integer keys), the method label built per key row, not per value.

When to compute: :func:`refresh` with the Lieferungen of an import or withdrawal (only their (indicator, year)
pairs), without them after a new Gebietsstand or key table (all). :func:`ensure` on read compares a fingerprint
of deliveries, versions, keys and units with the stored one and recomputes everything when anything was
written another way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from quartier import db

REALLOC_SQL = """
    WITH cur AS (
        SELECT coalesce(max(id), 0) AS id FROM gebietsstand
    ),
    lg AS (
        SELECT l.id AS lieferung_id, coalesce(x.gebietsstand_id, cur.id) AS gs, coalesce(x.gebietsstand_id, cur.id) <> cur.id AS alt
        FROM lieferung l CROSS JOIN cur LEFT JOIN lieferung_gebietsstand x ON x.lieferung_id = l.id
        WHERE l.status = 'aktiv'
    ),
    paar_l AS (
        SELECT DISTINCT m.indikator_id, m.jahr, m.lieferung_id, lg.alt FROM messwert m JOIN lg USING (lieferung_id){paare}
    ),
    paar AS (
        SELECT indikator_id, jahr, count(*) AS n_l, row_number() OVER () AS paar_nr FROM paar_l GROUP BY ALL HAVING NOT bool_or(NOT alt)
    ),
    a AS (
        SELECT m.indikator_id, m.sozialraum_id, m.jahr, m.wert, m.zaehler, m.nenner, m.gesperrt, m.lieferung_id, lg.gs, p.n_l, p.paar_nr
        FROM messwert m JOIN lg USING (lieferung_id) JOIN paar p USING (indikator_id, jahr){paare}
    ),
    alt AS (
        SELECT * EXCLUDE (n_l) FROM a WHERE n_l = 1
        UNION ALL
        SELECT * EXCLUDE (n_l, rn) FROM (SELECT *, row_number() OVER (PARTITION BY indikator_id, sozialraum_id, jahr ORDER BY lieferung_id DESC) AS rn
                                          FROM a WHERE n_l > 1) WHERE rn = 1
    ),
    k AS (
        SELECT s.von, s.alt_id, s.neu_id, s.anteil, s.basis,
               coalesce(s.gewicht / nullif(sum(s.gewicht) OVER (PARTITION BY s.von, s.neu_id), 0), 0) AS anteil_neu,
               count(*) OVER (PARTITION BY s.von, s.neu_id) AS n_quellen, dense_rank() OVER (ORDER BY s.neu_id) AS neu_nr,
               'umgerechnet (' || CASE s.basis WHEN 'amtlich' THEN 'amtlicher Schlüssel'
                                                   WHEN 'einwohner' THEN 'Überschneidung, nach Einwohnern gewichtet'
                                                   WHEN 'einwohnerpunkte' THEN 'Einwohner-Punkte'
                                                       WHEN 'einwohnerraster' THEN 'Einwohner-Raster'
                                                   ELSE 'Flächenanteile' END
                     || ', Gebietsstand ' || s.von || ')' AS label
        FROM gebietsstand_schluessel s, cur WHERE s.nach = cur.id AND s.anteil > 0
    ),
    iu AS (
        SELECT id AS indikator_id, u,
               u IN ('anzahl', 'personen', 'fälle', 'faelle') AS ist_anzahl,
               CASE WHEN u = '%' THEN 100.0 WHEN u LIKE '%1.000%' OR u LIKE '%1000%' OR u = '‰' THEN 1000.0 ELSE 1.0 END AS faktor
        FROM (SELECT id, lower(trim(coalesce(einheit, ''))) AS u FROM indikator)
    ),
    j AS NOT MATERIALIZED (  -- read twice: materialising 16 M joined rows costs more than joining twice
        SELECT a.*, k.neu_id, k.anteil, k.anteil_neu, k.n_quellen, k.label, k.neu_nr, a.sozialraum_id = k.neu_id AS gleich
        FROM alt a JOIN k ON k.von = a.gs AND k.alt_id = a.sozialraum_id
    ),
    g AS (
        SELECT indikator_id, neu_id AS sozialraum_id, jahr, gs, label,
               1 AS n, n_quellen, gesperrt,
               (zaehler IS NOT NULL)::INT AS nz, (nenner IS NOT NULL)::INT AS nn, (wert IS NOT NULL)::INT AS nw,
               zaehler * anteil AS zaehler, nenner * anteil AS nenner, wert * anteil AS summe,
               CASE WHEN anteil > 0.95 AND anteil_neu > 0.95 THEN wert END AS wert_1zu1,
               gleich AND anteil > 0.999 AND anteil_neu > 0.999 AS identisch, lieferung_id
        FROM j WHERE n_quellen = 1
        UNION ALL BY NAME
        -- new areas fed by several old ones: grouped by integer keys (string keys cost 3x), names joined back
        SELECT p.indikator_id, kn.neu_id AS sozialraum_id, p.jahr, x.gs, kl.label, x.* EXCLUDE (paar_nr, neu_nr, gs)
        FROM (SELECT paar_nr, neu_nr, gs,
                     count(*) AS n, max(n_quellen) AS n_quellen, bool_or(gesperrt) AS gesperrt,
                     count(zaehler) AS nz, count(nenner) AS nn, count(wert) AS nw,
                     sum(zaehler * anteil) AS zaehler, sum(nenner * anteil) AS nenner, sum(wert * anteil) AS summe,
                     max(CASE WHEN anteil > 0.95 AND anteil_neu > 0.95 THEN wert END) AS wert_1zu1,
                     bool_and(gleich AND anteil > 0.999 AND anteil_neu > 0.999) AS identisch,
                     max(lieferung_id) AS lieferung_id
              FROM j WHERE n_quellen > 1 GROUP BY paar_nr, neu_nr, gs) x
        JOIN paar p USING (paar_nr)
        JOIN (SELECT DISTINCT neu_nr, neu_id FROM k) kn USING (neu_nr)
        JOIN (SELECT von, any_value(label) AS label FROM k GROUP BY von) kl ON kl.von = x.gs
    ),
    r AS (
        SELECT g.*, coalesce(iu.ist_anzahl, false) AS ist_anzahl, coalesce(iu.faktor, 1.0) AS faktor,
               n = n_quellen AND nz = n AND nn = n AND nenner > 0 AS mit_zn
        FROM g LEFT JOIN iu USING (indikator_id)
    )
    SELECT indikator_id, sozialraum_id, jahr,
           CASE WHEN gesperrt OR n < n_quellen THEN NULL
                WHEN ist_anzahl THEN CASE WHEN nw = n THEN summe END
                WHEN mit_zn THEN zaehler / nenner * faktor
                ELSE wert_1zu1 END AS wert,
           CASE WHEN NOT gesperrt AND n = n_quellen AND nz = n THEN zaehler END AS zaehler,
           CASE WHEN NOT gesperrt AND n = n_quellen AND nn = n THEN nenner END AS nenner,
           gesperrt, lieferung_id,
           CASE WHEN identisch THEN NULL ELSE label END AS umgerechnet,
           CASE WHEN gesperrt THEN 'ein beteiligtes altes Gebiet ist gesperrt'
                WHEN n < n_quellen THEN 'nicht für alle beteiligten alten Gebiete geliefert'
                WHEN NOT ist_anzahl AND NOT mit_zn AND wert_1zu1 IS NULL
                     THEN 'Rate ohne Zähler und Nenner: nur bei 1:1-Zuordnung (Anteil über 0,95) umrechenbar'
           END AS umrechnung_grund,
           gs AS gebietsstand_alt
    FROM r
"""

# read-only connection with stale stored values: compute on read (as the view of 011 did)
COMPUTED = ("(SELECT * FROM messwert_heute WHERE gebietsstand_alt IS NULL UNION ALL ("  # noqa: S608 - fixed SQL
            + REALLOC_SQL.format(paare="") + "))")

_PAIR_FILTER = " JOIN _umr_paare USING (indikator_id, jahr)"

_STAMP_SQL = (
    "SELECT (SELECT coalesce(max(id), 0) FROM gebietsstand),"
    " (SELECT coalesce(string_agg(id::VARCHAR || left(status, 1), ',' ORDER BY id), '') FROM lieferung),"
    " (SELECT coalesce(string_agg(lieferung_id::VARCHAR || ':' || gebietsstand_id, ',' ORDER BY lieferung_id), '')"
    "  FROM lieferung_gebietsstand),"
    " (SELECT coalesce(bit_xor(hash(von, nach, alt_id, neu_id, anteil, basis, gewicht)), 0) FROM gebietsstand_schluessel),"
    " (SELECT coalesce(bit_xor(hash(id, einheit)), 0) FROM indikator),"
    " (SELECT count(*) FROM messwert)"
)


def needed(cur: db.Con) -> bool:
    """True when an active Lieferung belongs to an earlier Gebietsstand (else today's values are the delivered ones).

    Runs on ``cur`` itself (inside a transaction it must see the uncommitted rows)."""
    rows = cur.execute(
        "SELECT EXISTS (SELECT 1 FROM lieferung_gebietsstand x JOIN lieferung l ON l.id = x.lieferung_id"
        " WHERE l.status = 'aktiv' AND x.gebietsstand_id < (SELECT max(id) FROM gebietsstand))").fetchall()
    return bool(rows and rows[0][0])


def stamp(cur: db.Con) -> str:
    """Fingerprint of everything the re-allocated values depend on (small tables and one row count)."""
    rows = cur.execute(_STAMP_SQL).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def stored_stamp(cur: db.Con) -> str | None:
    rows = cur.execute("SELECT stand FROM umrechnung_stand WHERE id = 1").fetchall()
    return str(rows[0][0]) if rows else None


def _set_stamp(cur: db.Con) -> None:
    cur.execute("INSERT INTO umrechnung_stand (id, stand) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET stand = excluded.stand",
                [stamp(cur)]).fetchall()


def fresh(cur: db.Con) -> bool:
    """True when the stored values match the current state (call before a change to refresh incrementally)."""
    return stored_stamp(cur) == stamp(cur)


def refresh(cur: db.Con, lieferung_ids: Iterable[int] | None = None, *, was_fresh: bool = False) -> int:
    """Recompute the stored re-allocated values inside the caller's transaction; the number of rows written.

    With ``lieferung_ids`` (an import or withdrawal) and ``was_fresh`` (:func:`fresh` before the change) only the
    (indicator, year) pairs of those Lieferungen are recomputed; otherwise everything is."""
    ids = [int(i) for i in lieferung_ids] if lieferung_ids is not None and was_fresh else None
    if not needed(cur):
        cur.execute("DELETE FROM messwert_umgerechnet").fetchall()
        _set_stamp(cur)
        return 0
    if ids is None:
        cur.execute("DELETE FROM messwert_umgerechnet").fetchall()
        n = cur.execute("INSERT INTO messwert_umgerechnet " + REALLOC_SQL.format(paare="")).fetchall()
    else:
        cur.execute("CREATE OR REPLACE TEMP TABLE _umr_paare AS SELECT DISTINCT indikator_id, jahr FROM messwert"
                    " WHERE list_contains(?, lieferung_id)", [ids]).fetchall()
        cur.execute("DELETE FROM messwert_umgerechnet u USING _umr_paare p"
                    " WHERE u.indikator_id = p.indikator_id AND u.jahr = p.jahr").fetchall()
        n = cur.execute("INSERT INTO messwert_umgerechnet " + REALLOC_SQL.format(paare=_PAIR_FILTER)).fetchall()
        cur.execute("DROP TABLE _umr_paare").fetchall()
    _set_stamp(cur)
    return int(n[0][0]) if n else 0


def ensure(con: db.Con) -> bool:
    """Make the stored values match the current deliveries, versions and keys; False when they are stale and
    cannot be written (read-only connection): then :func:`computed` must be read instead."""
    cur = con.cursor()
    try:
        if fresh(cur):
            return True
    finally:
        cur.close()
    try:
        with db.transaction(con) as tx:
            if not fresh(tx):  # another session may have refreshed meanwhile
                refresh(tx)
    except Exception as exc:  # noqa: BLE001 - read-only connection: fall back to computing on read
        if "read-only" in str(exc).lower() or "read only" in str(exc).lower():
            return False
        raise
    return True

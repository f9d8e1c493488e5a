"""Editing single offers (add, change, close) with the importer's checks, history and audit; staff only.

The same rules as the file import (:mod:`quartier.offers.importer`): tolerant values, per-field German
messages, coordinates inside the city or a known Sozialraum, known category. Every write appends to
``angebot_verlauf`` (file column: "Einzelbearbeitung") and to the audit log; the role is checked here,
not only on the page.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from quartier import access, db
from quartier.access import Actor
from quartier.offers.importer import FIELDS, OfferImport, SourceRow, _Checker, _comparable, _history, _row_json
from quartier.offers.store import OfferError

SOURCE = "Einzelbearbeitung"
INPUT_KEYS = ("id", "name", "kategorie", "traeger", "adresse", "plaetze", "zielgruppe", "beginn", "ende", "lat", "lon",
              "rechtswert", "hochwert", "sozialraum")


def check(con: db.Con, values: dict[str, Any]) -> tuple[dict | None, list[str], list[str]]:
    """(record or None, errors, warnings) for one offer given as field -> raw value (see ``INPUT_KEYS``)."""
    row = SourceRow(SOURCE, 1, {k: _blank(values.get(k)) for k in INPUT_KEYS}, {})
    rep = OfferImport(SOURCE, "")
    rec = _Checker(con, []).check(row, rep)
    return rec, [f"{e['column']}: {e['message']}" for e in rep.errors], [e["message"] for e in rep.warnings]


def _blank(v: Any) -> Any:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    return v


def save(con: db.Con, values: dict[str, Any], *, actor: Actor, angebot_id: str | None = None) -> dict:
    """Add a new offer (``angebot_id`` None) or change an existing one (also reopens a closed one).

    Returns ``{"id", "aktion": "neu"|"geaendert"|"unveraendert", "warnungen": [...]}``; raises OfferError
    with every problem in one German message, PermissionDenied for viewers."""
    access.require(actor, access.EDITOR, "ein Angebot anlegen oder ändern")
    vals = dict(values)
    if angebot_id is not None:
        vals["id"] = angebot_id
    rec, errors, warnings = check(con, vals)
    if errors or rec is None:
        raise OfferError("Das Angebot wurde nicht gespeichert: " + " ".join(errors))
    aid = rec["id"]
    with db.transaction(con) as cur:
        old_row = cur.execute("SELECT status FROM angebot WHERE id = ?", [aid]).fetchone()
        if angebot_id is None and old_row is not None:
            raise OfferError(f"Ein Angebot mit der Id „{aid}“ gibt es schon: bitte eine andere Id angeben oder das "
                             "bestehende Angebot ändern.")
        if angebot_id is not None and old_row is None:
            raise OfferError(f"Das Angebot „{angebot_id}“ gibt es nicht.")
        before = _row_json(cur, aid) if old_row else None
        if old_row is not None and before is not None and old_row[0] == "aktiv" and before == _comparable(rec):
            return {"id": aid, "aktion": "unveraendert", "warnungen": warnings}
        cur.execute("DELETE FROM angebot WHERE id = ?", [aid])
        cur.execute(f"INSERT INTO angebot ({', '.join(FIELDS)}, status, geaendert_von) VALUES "  # noqa: S608 - fixed columns
                    f"({', '.join('?' * len(FIELDS))}, 'aktiv', ?)", [rec[k] for k in FIELDS] + [actor.name])
        action = "geaendert" if before is not None else "neu"
        _history(cur, aid, action, before, _comparable(rec), SOURCE, actor.name)
        db.audit(cur, actor.name, f"angebot_{action}", aid, rec["name"])
    return {"id": aid, "aktion": action, "warnungen": warnings}


def close(con: db.Con, angebot_id: str, *, actor: Actor, ende: date | None = None) -> None:
    """Close one offer (kept with its history); ``ende`` (optional) is its last day, so it still counts until then."""
    access.require(actor, access.EDITOR, "ein Angebot schließen")
    with db.transaction(con) as cur:
        row = cur.execute("SELECT status, beginn FROM angebot WHERE id = ?", [angebot_id]).fetchone()
        if row is None:
            raise OfferError(f"Das Angebot „{angebot_id}“ gibt es nicht.")
        if row[0] != "aktiv":
            raise OfferError(f"Das Angebot „{angebot_id}“ ist schon geschlossen.")
        if ende is not None and row[1] is not None and ende < row[1]:
            raise OfferError("Das Ende liegt vor dem Beginn des Angebots.")
        before = _row_json(cur, angebot_id)
        cur.execute("UPDATE angebot SET status = 'geschlossen', ende = coalesce(?, ende), geaendert_am = current_timestamp,"
                    " geaendert_von = ? WHERE id = ?", [ende, actor.name, angebot_id])
        _history(cur, angebot_id, "geschlossen", before, _row_json(cur, angebot_id), SOURCE, actor.name)
        db.audit(cur, actor.name, "angebot_schliessen", angebot_id, ende.isoformat() if ende else None)

"""The category catalogue: name, colour, symbol, target-group indicator and default walking radius."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from quartier import access, db, uploads
from quartier.access import Actor
from quartier.errors import InputError
from quartier.names import normalize
from quartier.tables import write_table

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000"]
SYMBOLS = ["Kreis", "Quadrat", "Dreieck", "Raute", "Stern", "Kreuz"]
COLUMNS = ["name", "farbe", "symbol", "zielgruppe_indikator", "radius_m"]
_HEADERS = {
    "name": ("name", "kategorie", "bezeichnung"),
    "farbe": ("farbe", "color", "colour"),
    "symbol": ("symbol", "form"),
    "zielgruppe_indikator": ("zielgruppeindikator", "zielgruppe", "indikator"),
    "radius_m": ("radiusm", "radius", "fussweg", "fusswegradius", "radiusmeter"),
}


class CategoryError(InputError):
    """A category file or entry cannot be used (German message)."""


def categories(con: db.Con) -> pd.DataFrame:
    """The catalogue in its order: name, farbe, symbol, zielgruppe_indikator, radius_m."""
    return db.query_df(con, "SELECT name, farbe, symbol, zielgruppe_indikator, radius_m FROM angebot_kategorie"
                            " ORDER BY sortierung NULLS LAST, name")


def category(con: db.Con, name: str) -> dict:
    """One category by name (tolerant); CategoryError with a suggestion when unknown."""
    cats = categories(con)
    by_norm = {normalize(n): r for n, r in zip(cats["name"], cats.to_dict("records"))}
    hit = by_norm.get(normalize(name))
    if hit:
        return hit
    from difflib import get_close_matches

    near = get_close_matches(normalize(name), list(by_norm), n=1, cutoff=0.6)
    hint = f" Meinten Sie „{by_norm[near[0]]['name']}“?" if near else ""
    known = ", ".join(cats["name"]) or "keine – bitte erst `angebote kategorien load` ausführen"
    raise CategoryError(f"Die Kategorie „{name}“ gibt es nicht.{hint} Bekannt: {known}.")


def _frame_from_rows(rows: list[list]) -> pd.DataFrame:
    if not rows:
        raise CategoryError("Die Kategoriendatei ist leer.")
    head = [normalize(h) for h in rows[0]]
    cols: dict[str, int] = {}
    for key, names in _HEADERS.items():
        for i, h in enumerate(head):
            if h in names and i not in cols.values():
                cols.setdefault(key, i)
    if "name" not in cols:
        raise CategoryError("In der Kategoriendatei fehlt die Spalte „Name“ (oder „Kategorie“).")
    out = []
    for r in rows[1:]:
        rec = {k: (r[i] if i < len(r) else None) for k, i in cols.items()}
        if str(rec.get("name") or "").strip():
            out.append(rec)
    return pd.DataFrame(out, columns=COLUMNS)


def load(con: db.Con, path: str | Path, *, actor: Actor) -> int:
    """Load (insert or update) categories from .xlsx/.csv; returns how many. Staff only."""
    access.require(actor, access.EDITOR, "den Kategorienkatalog laden")
    data = uploads.read_path(path)
    book = uploads.read_book(data, Path(path).name)
    frame = _frame_from_rows(book.sheets[0].rows)
    known_ind = {r[0] for r in con.cursor().execute("SELECT id FROM indikator").fetchall()}
    recs = []
    for n, rec in enumerate(frame.to_dict("records"), start=2):
        recs.append(_checked(rec, n, known_ind))
    save(con, recs, actor=actor)
    return len(recs)


def _checked(rec: dict, line: int, known_ind: set[str]) -> dict:
    name = str(rec["name"]).strip()
    ind = str(rec.get("zielgruppe_indikator") or "").strip() or None
    if ind and ind not in known_ind:
        raise CategoryError(f"Zeile {line}: Der Zielgruppen-Indikator „{ind}“ ist nicht im Indikatorenkatalog.")
    try:
        radius = float(str(rec.get("radius_m") or 500).replace(",", "."))
    except ValueError as exc:
        raise CategoryError(f"Zeile {line}: Radius „{rec.get('radius_m')}“ ist keine Zahl (Meter).") from exc
    if not 50 <= radius <= 20000:
        raise CategoryError(f"Zeile {line}: Radius {radius:g} m liegt nicht zwischen 50 und 20.000 Metern.")
    farbe = str(rec.get("farbe") or "").strip() or None
    if farbe and not (len(farbe) == 7 and farbe.startswith("#")):
        raise CategoryError(f"Zeile {line}: Farbe „{farbe}“ bitte als #RRGGBB angeben (z. B. #0072B2).")
    symbol = str(rec.get("symbol") or "").strip() or None
    return {"name": name, "farbe": farbe, "symbol": symbol, "zielgruppe_indikator": ind, "radius_m": radius}


def save(con: db.Con, recs: list[dict], *, actor: Actor) -> None:
    """Insert or update categories (colour and symbol filled from the palette where missing)."""
    access.require(actor, access.EDITOR, "den Kategorienkatalog ändern")
    with db.transaction(con) as cur:
        n0 = cur.execute("SELECT count(*) FROM angebot_kategorie").fetchone()[0]
        for i, r in enumerate(recs):
            k = n0 + i
            cur.execute(
                "INSERT INTO angebot_kategorie (name, farbe, symbol, zielgruppe_indikator, radius_m, sortierung)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET farbe = excluded.farbe,"
                " symbol = excluded.symbol, zielgruppe_indikator = excluded.zielgruppe_indikator,"
                " radius_m = excluded.radius_m",
                [r["name"], r.get("farbe") or PALETTE[k % len(PALETTE)], r.get("symbol") or SYMBOLS[k % len(SYMBOLS)],
                 r.get("zielgruppe_indikator"), float(r.get("radius_m") or 500), k],
            )
        db.audit(cur, actor.name, "angebot_kategorien_laden", None, ", ".join(r["name"] for r in recs))


def export(con: db.Con, path: str | Path) -> Path:
    frame = categories(con).rename(columns={"name": "Name", "farbe": "Farbe", "symbol": "Symbol",
                                            "zielgruppe_indikator": "Zielgruppe-Indikator", "radius_m": "Radius m"})
    return write_table(frame, path, sheet="Kategorien")

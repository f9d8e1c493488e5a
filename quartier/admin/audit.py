"""Reading the audit log. Entries are only ever appended (``db.audit``); nothing here changes them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from quartier import db
from quartier.access import ADMIN, require

COLUMNS = {"id": "Nr.", "zeitpunkt": "Zeitpunkt", "benutzer": "Benutzer", "aktion": "Aktion", "objekt": "Objekt",
           "details": "Details"}


def entries(con, actor, *, users: list[str] | None = None, actions: list[str] | None = None,
            since: date | None = None, until: date | None = None, text: str | None = None,
            limit: int | None = None) -> pd.DataFrame:
    """Audit entries, newest first, filtered; administrators only."""
    require(actor, ADMIN, "das Audit-Log lesen")
    where, params = [], []
    if users:
        where.append("list_contains(?, benutzer)")
        params.append(list(users))
    if actions:
        where.append("list_contains(?, aktion)")
        params.append(list(actions))
    if since:
        where.append("zeitpunkt >= ?")
        params.append(datetime.combine(since, datetime.min.time()))
    if until:
        where.append("zeitpunkt < ?")
        params.append(datetime.combine(until + timedelta(days=1), datetime.min.time()))
    if text:
        where.append("(objekt ILIKE ? OR details ILIKE ? OR benutzer ILIKE ? OR aktion ILIKE ?)")
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [like] * 4
    sql = "SELECT id, zeitpunkt, benutzer, aktion, objekt, details FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC"
    if limit:
        sql += " LIMIT ?"
        params.append(int(limit))
    return db.query_df(con, sql, params)


def choices(con, actor) -> tuple[list[str], list[str]]:
    """Distinct users and actions for filter widgets."""
    require(actor, ADMIN, "das Audit-Log lesen")
    cur = con.cursor()
    u = [r[0] for r in cur.execute("SELECT DISTINCT benutzer FROM audit_log ORDER BY 1").fetchall()]
    a = [r[0] for r in cur.execute("SELECT DISTINCT aktion FROM audit_log ORDER BY 1").fetchall()]
    return u, a


def export_frame(df: pd.DataFrame) -> pd.DataFrame:
    """German column names for files."""
    return df.rename(columns=COLUMNS)

"""Staying logged in: server-side sessions behind a signed cookie (no Streamlit here; the glue is quartier.ui).

A login creates a session: a random id (``secrets``, 256 bit) that only the browser keeps, in an HttpOnly,
SameSite=Strict cookie, signed with HMAC-SHA256 under a key generated once per installation (table
``sitzung_schluessel``, migration 019; never in the repository). The database stores only the SHA-256 hash of
the id (table ``sitzung``), with the account, creation time, last activity and the browser's user agent.

A session is valid while it is not ended, was active within ``sitzung_leerlauf_minuten`` (default 8 hours) and
its account exists, is enabled and has a local password. It ends by logout (in every tab: the tabs share the
cookie), by "alle Sitzungen beenden", by an administrator on "Benutzer und Sicherheit", and automatically when
the account's password, role or raw-value right changes or the account is disabled (``end_all_in``, called
inside those transactions in :mod:`quartier.admin.auth`). Every ending by a person is audited.

The cookie reaches the browser through a one-time ticket (:class:`Tickets`): the login runs over Streamlit's
websocket, which cannot set cookies, so the page posts the ticket to a small route that answers with the
cookie. Tickets live in this process for two minutes and are redeemed once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from quartier import db, settings
from quartier.access import ADMIN, Actor, PermissionDenied

COOKIE_NAME = "quartier_sitzung"
IDLE_SETTING = "sitzung_leerlauf_minuten"
TOUCH_SECONDS = 60            # "zuletzt aktiv" is written at most once a minute per session
KEEP_DAYS = 30                # ended or expired sessions are kept this long (for the list), then deleted
TICKET_SECONDS = 120
USER_AGENT_CHARS = 300
_SIGN_CONTEXT = b"quartier-sitzung-v1:"
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")       # secrets.token_urlsafe(32)
_SIG_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")      # base64url of 32 bytes, unpadded

REASONS = {
    "abmeldung": "abgemeldet", "alle": "alle Sitzungen beendet", "administration": "von der Administration beendet",
    "passwort": "Passwort geändert", "rolle": "Rolle geändert", "deaktiviert": "Konto deaktiviert",
    "inaktiv": "zu lange inaktiv",
}


@dataclass(frozen=True)
class Session:
    key: str        # SHA-256 hex of the session id: what the database knows
    account: str


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def key_of(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def signing_key(con: db.Con) -> bytes:
    """This installation's signing key; created (random, 256 bit) on first use."""
    row = con.cursor().execute("SELECT schluessel FROM sitzung_schluessel WHERE id = 1").fetchone()
    if row is None:
        with db.transaction(con) as cur:
            cur.execute("INSERT INTO sitzung_schluessel (id, schluessel) VALUES (1, ?) ON CONFLICT DO NOTHING",
                        [secrets.token_hex(32)])
            row = cur.execute("SELECT schluessel FROM sitzung_schluessel WHERE id = 1").fetchone()
    if row is None:  # pragma: no cover - inserted just above
        raise db.DatabaseError("Der Sitzungsschlüssel konnte nicht angelegt werden.")
    return bytes.fromhex(str(row[0]))


def _signature(key: bytes, session_id: str) -> str:
    mac = hmac.new(key, _SIGN_CONTEXT + session_id.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def sign(key: bytes, session_id: str) -> str:
    """The cookie value: ``<id>.<HMAC-SHA256 signature>``."""
    return f"{session_id}.{_signature(key, session_id)}"


def unsign(key: bytes, value: str | None) -> str | None:
    """The session id of a cookie value with a valid signature, else None (malformed, tampered, other key)."""
    if not value or not isinstance(value, str) or len(value) > 200:
        return None
    session_id, _, sig = value.partition(".")
    if not _ID_RE.match(session_id) or not _SIG_RE.match(sig):
        return None
    return session_id if hmac.compare_digest(sig, _signature(key, session_id)) else None


def idle_minutes(con: db.Con) -> int:
    return settings.read_int(con, IDLE_SETTING)


def create(con: db.Con, account: str, *, user_agent: str | None = None, now: datetime | None = None) -> tuple[str, Session]:
    """A new session for ``account`` (after a successful login): the signed cookie value and the session."""
    now = now or _now()
    key = signing_key(con)
    session_id = secrets.token_urlsafe(32)
    session = Session(key_of(session_id), account)
    agent = (user_agent or "").strip()[:USER_AGENT_CHARS] or None
    with db.transaction(con) as cur:
        old = now - timedelta(days=KEEP_DAYS)
        cur.execute("DELETE FROM sitzung WHERE coalesce(beendet_am, zuletzt_aktiv) < ?", [old])
        cur.execute("INSERT INTO sitzung (kennung_hash, benutzer, angelegt_am, zuletzt_aktiv, browser) VALUES (?, ?, ?, ?, ?)",
                    [session.key, account, now, now, agent])
    return sign(key, session_id), session


def _valid_row(cur: db.Con, key: str, now: datetime, idle: int) -> tuple[str, datetime] | None | bool:
    """(account, last seen) of a valid session; False when it is idle-expired (to be ended); None otherwise."""
    row = cur.execute(
        "SELECT s.benutzer, s.zuletzt_aktiv, b.deaktiviert, b.passwort_hash IS NOT NULL FROM sitzung s"
        " LEFT JOIN benutzer b ON b.name = s.benutzer WHERE s.kennung_hash = ? AND s.beendet_am IS NULL",
        [key],
    ).fetchone()
    if row is None or row[2] is None or row[2] or not row[3]:
        return None
    if row[1] <= now - timedelta(minutes=idle):
        return False
    return str(row[0]), row[1]


def check(con: db.Con, key: str, *, now: datetime | None = None) -> str | None:
    """The account of a still valid session (and note the activity), else None. Ends an idle-expired one."""
    now = now or _now()
    idle = idle_minutes(con)
    cur = con.cursor()
    try:
        found = _valid_row(cur, key, now, idle)
    finally:
        cur.close()
    if found is None:
        return None
    if found is False:
        with db.transaction(con) as cur:
            cur.execute("UPDATE sitzung SET beendet_am = ?, beendet_grund = 'inaktiv' WHERE kennung_hash = ?"
                        " AND beendet_am IS NULL", [now, key])
        return None
    assert not isinstance(found, bool)
    account, last_seen = found
    if (now - last_seen).total_seconds() >= TOUCH_SECONDS:
        with db.transaction(con) as cur:
            cur.execute("UPDATE sitzung SET zuletzt_aktiv = ? WHERE kennung_hash = ? AND beendet_am IS NULL", [now, key])
    return account


def resume(con: db.Con, cookie_value: str | None, *, now: datetime | None = None) -> Session | None:
    """The session a cookie stands for, if its signature is right and the session is still valid."""
    if not cookie_value:
        return None
    session_id = unsign(signing_key(con), cookie_value)
    if session_id is None:
        return None
    key = key_of(session_id)
    account = check(con, key, now=now)
    return Session(key, account) if account is not None else None


def end_reason(con: db.Con, key: str) -> str | None:
    """Why a session ended (a key of ``REASONS``); None while it is open or unknown."""
    row = con.cursor().execute("SELECT beendet_grund FROM sitzung WHERE kennung_hash = ?", [key]).fetchone()
    return str(row[0]) if row and row[0] is not None else None


def end_all_in(cur: db.Con, account: str, reason: str, now: datetime | None = None) -> int:
    """End every open session of ``account`` inside the caller's transaction; the number ended."""
    row = cur.execute("SELECT count(*) FROM sitzung WHERE benutzer = ? AND beendet_am IS NULL", [account]).fetchone()
    n = int(row[0]) if row else 0
    if n:
        cur.execute("UPDATE sitzung SET beendet_am = ?, beendet_grund = ? WHERE benutzer = ? AND beendet_am IS NULL",
                    [now or _now(), reason, account])
    return int(n)


def _audit_end(cur: db.Con, by: str, account: str, reason: str, keys: list[str]) -> None:
    db.audit(cur, by, "abmeldung" if reason == "abmeldung" else "sitzung_beenden", account,
             json.dumps({"grund": REASONS.get(reason, reason), "sitzungen": [k[:8] for k in keys]}, ensure_ascii=False))


def logout(con: db.Con, key: str, *, now: datetime | None = None) -> bool:
    """The user logs out: their session ends (in every tab that shares the cookie). False if it was over already."""
    with db.transaction(con) as cur:
        row = cur.execute("SELECT benutzer FROM sitzung WHERE kennung_hash = ? AND beendet_am IS NULL", [key]).fetchone()
        if row is None:
            return False
        cur.execute("UPDATE sitzung SET beendet_am = ?, beendet_grund = 'abmeldung' WHERE kennung_hash = ?", [now or _now(), key])
        _audit_end(cur, str(row[0]), str(row[0]), "abmeldung", [key])
    return True


def end_sessions(con: db.Con, account: str, *, actor: Actor, key: str | None = None) -> int:
    """End one session (``key``) or all sessions of ``account``: the account itself ("alle Sitzungen beenden")
    or an administrator. Audited; returns the number of sessions ended."""
    if actor.name != account and not actor.has(ADMIN):
        raise PermissionDenied("Sitzungen anderer Konten beenden darf nur die Administration.")
    reason = "alle" if actor.name == account and key is None else "administration"
    with db.transaction(con) as cur:
        sql, params = "SELECT kennung_hash FROM sitzung WHERE benutzer = ? AND beendet_am IS NULL", [account]
        if key is not None:
            sql, params = sql + " AND kennung_hash = ?", [account, key]
        keys = [str(r[0]) for r in cur.execute(sql, params).fetchall()]
        if keys:
            cur.execute(f"UPDATE sitzung SET beendet_am = ?, beendet_grund = ? WHERE kennung_hash IN ({', '.join('?' * len(keys))})",  # noqa: S608 - placeholders only
                        [_now(), reason, *keys])
            _audit_end(cur, actor.name, account, reason, keys)
    return len(keys)


def open_sessions(con: db.Con, *, actor: Actor, now: datetime | None = None) -> pd.DataFrame:
    """Open sessions, newest activity first (administrators: all accounts; everybody else: their own).

    Columns: schluessel (the stored hash), kennung (its first 8 characters), benutzer, angelegt_am, zuletzt_aktiv,
    browser (short label). Sessions past the idle time are not listed (they end at their next use)."""
    now = now or _now()
    since = now - timedelta(minutes=idle_minutes(con))
    sql = ("SELECT kennung_hash AS schluessel, left(kennung_hash, 8) AS kennung, benutzer, angelegt_am, zuletzt_aktiv, browser"
           " FROM sitzung WHERE beendet_am IS NULL AND zuletzt_aktiv > ?")
    params: list[object] = [since]
    if not actor.has(ADMIN):
        sql += " AND benutzer = ?"
        params.append(actor.name)
    df = db.query_df(con, sql + " ORDER BY zuletzt_aktiv DESC, angelegt_am DESC", params)
    df["browser"] = [browser_label(v) for v in df["browser"]]
    return df


def browser_label(user_agent: object) -> str:
    """A short German label for a user agent ("Chrome unter Linux"); "unbekannt" without one."""
    ua = str(user_agent or "")
    if not ua or ua in ("None", "nan"):
        return "unbekannt"
    browser = next((name for token, name in (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
                                             ("Chromium/", "Chromium"), ("Safari/", "Safari")) if token in ua), "Browser")
    system = next((name for token, name in (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"),
                                            ("iPad", "iPadOS"), ("Mac OS X", "macOS"), ("Linux", "Linux")) if token in ua), "")
    return f"{browser} unter {system}" if system else browser


class Tickets:
    """One-time tickets that hand a cookie value from the logged-in script run to the cookie route.

    Only the ticket's hash is kept; a ticket is valid for ``TICKET_SECONDS`` and redeemed at most once. Bounded."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, tuple[str, datetime]] = {}

    def issue(self, cookie_value: str, now: datetime | None = None) -> str:
        now = now or _now()
        ticket = secrets.token_urlsafe(32)
        with self._lock:
            for k in [k for k, (_v, until) in self._open.items() if until <= now]:
                del self._open[k]
            while len(self._open) >= self.MAX_ENTRIES:
                self._open.pop(next(iter(self._open)))
            self._open[hashlib.sha256(ticket.encode()).hexdigest()] = (cookie_value, now + timedelta(seconds=TICKET_SECONDS))
        return ticket

    def redeem(self, ticket: str, now: datetime | None = None) -> str | None:
        if not ticket or len(ticket) > 100:
            return None
        with self._lock:
            found = self._open.pop(hashlib.sha256(ticket.encode()).hexdigest(), None)
        if found is None or found[1] <= (now or _now()):
            return None
        return found[0]


TICKETS = Tickets()

"""Login: local accounts with Argon2id hashes and lockout, OIDC claims mapped to roles, user administration.

Local accounts live in the table ``benutzer`` (migration 005). After ``login_max_fehlversuche``
failed attempts (default 5) an account is locked for ``login_sperre_minuten`` (default 15). Messages
never reveal whether an account exists. Passwords are never stored, logged or echoed.
"""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import UTC, datetime, timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from quartier import db, settings
from quartier.access import ADMIN, EDITOR, ROLES, VIEWER, Actor, require
from quartier.admin import sessions
from quartier.errors import QuartierError

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_DEFAULT = settings.spec("login_max_fehlversuche").default
LOCK_MINUTES_DEFAULT = settings.spec("login_sperre_minuten").default
NAME_RE = re.compile(r"^[A-Za-z0-9._@+-]{2,100}$")
ROLE_ALIASES = {
    "betrachtung": VIEWER, "viewer": VIEWER, "lesen": VIEWER,
    "bearbeitung": EDITOR, "editor": EDITOR,
    "administration": ADMIN, "admin": ADMIN,
}
# Demo accounts (only created by the demo build; documented in README.md).
DEMO_ACCOUNTS = (
    ("betrachtung", VIEWER, "demo-betrachtung"),
    ("bearbeitung", EDITOR, "demo-bearbeitung"),
    ("admin", ADMIN, "demo-administration"),
)
_HASHER = PasswordHasher()  # Argon2id with the library's recommended parameters
_DUMMY_HASH: str | None = None  # checked for unknown or locked names; made on the first login, not at import
_HASH_SLOTS = threading.BoundedSemaphore(max(1, min(4, os.cpu_count() or 1)))


class AuthError(QuartierError):
    """Login failed or a user command was invalid (German message)."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def parse_role(text: str) -> str:
    role = ROLE_ALIASES.get((text or "").strip().lower())
    if role is None and text in ROLES:
        role = text
    if role is None:
        raise AuthError(f"Unbekannte Rolle „{text}“: erlaubt sind Betrachtung, Bearbeitung oder Administration.")
    return role


def hash_password(password: str) -> str:
    check_password(password)
    return _HASHER.hash(password)


def check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"Das Passwort ist zu kurz: bitte mindestens {MIN_PASSWORD_LENGTH} Zeichen verwenden.")
    if password.strip() != password or "\n" in password:
        raise AuthError("Das Passwort darf nicht mit Leerzeichen beginnen oder enden und keinen Zeilenumbruch enthalten.")


def verify_password(stored_hash: str | None, password: str) -> bool:
    # At most one check per core at a time: each Argon2id run takes 64 MiB (the library default) and a
    # core; twenty simultaneous logins would otherwise need 1.3 GB at once and finish no sooner.
    with _HASH_SLOTS:
        try:
            return _HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _HASHER.hash("kein-konto-vorhanden")
    return _DUMMY_HASH


def _limits(con) -> tuple[int, int]:
    return settings.read_int(con, "login_max_fehlversuche"), settings.read_int(con, "login_sperre_minuten")


def _row(cur, name: str):
    r = cur.execute(
        "SELECT name, passwort_hash, rolle, rohdaten, deaktiviert, fehlversuche, gesperrt_bis FROM benutzer WHERE name = ?",
        [name],
    ).fetchone()
    if r is None:
        return None
    keys = ("name", "passwort_hash", "rolle", "rohdaten", "deaktiviert", "fehlversuche", "gesperrt_bis")
    return dict(zip(keys, r))


class _Throttle:
    """Failed attempts kept in this process: per client (so one client cannot lock somebody else's account)
    and per unknown name (so an unknown name is "locked" exactly like an existing one: the answer never
    tells whether an account exists). Bounded: the oldest entries are dropped."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_client: dict[str, list[datetime]] = {}
        self.unknown: dict[str, tuple[int, datetime | None]] = {}

    def client_blocked_until(self, client: str, now: datetime, limit: int, minutes: int) -> datetime | None:
        with self._lock:
            recent = [t for t in self.by_client.get(client, []) if t > now - timedelta(minutes=minutes)]
            self.by_client[client] = recent
            return recent[-1] + timedelta(minutes=minutes) if len(recent) >= limit else None

    def client_failed(self, client: str, now: datetime) -> None:
        with self._lock:
            self.by_client.setdefault(client, []).append(now)
            self._trim(self.by_client)

    def unknown_state(self, name: str, now: datetime) -> datetime | None:
        with self._lock:
            _failed, until = self.unknown.get(name.lower(), (0, None))
            return until if until is not None and until > now else None

    def unknown_failed(self, name: str, now: datetime, max_failed: int, minutes: int) -> None:
        with self._lock:
            failed, until = self.unknown.get(name.lower(), (0, None))
            if until is not None and until <= now:
                failed = 0
            failed += 1
            self.unknown[name.lower()] = (0, now + timedelta(minutes=minutes)) if failed >= max_failed else (failed, None)
            self._trim(self.unknown)

    def _trim(self, d: dict) -> None:
        while len(d) > self.MAX_ENTRIES:
            d.pop(next(iter(d)))

    def clear(self) -> None:
        with self._lock:
            self.by_client.clear()
            self.unknown.clear()


THROTTLE = _Throttle()


def _locked_error(until: datetime) -> AuthError:
    return AuthError(f"Zu viele Fehlversuche: die Anmeldung ist bis {until.strftime('%H:%M')} Uhr (UTC) gesperrt. "
                     "Bitte später erneut versuchen oder die Administration bitten, das Passwort zurückzusetzen.")


def authenticate(con, name: str, password: str, now: datetime | None = None, *, client: str | None = None) -> Actor:
    """Check a local login; return the Actor or raise AuthError. Failed attempts count towards the lockout.

    ``client`` identifies where the attempt comes from (the UI passes the browser's address or session):
    one client may fail at most ``login_max_fehlversuche - 1`` times within the lock time, so it can never
    lock an account on its own; after that it waits, and the account is not touched. Unknown names get the
    same answers as existing accounts, including the lockout, and their text is not written to the audit log
    (it may be a password typed into the wrong field). The command line passes no client.

    The Argon2id check (about 0.15 s of CPU, by design) runs *before* the process-wide write lock is
    taken: inside it, twenty people logging in at once would wait for each other's hashing one by one.
    Under the lock the account is read again, so a lockout, deactivation or password change that
    happened meanwhile still decides; the failed-attempt counter is updated from that fresh row.
    """
    now = now or _now()
    name = (name or "").strip()
    wrong = AuthError("Benutzername oder Passwort ist falsch.")
    if not name or not password:
        raise AuthError("Bitte Benutzername und Passwort eingeben.")
    max_failed, lock_minutes = _limits(con)
    if client is not None:
        blocked = THROTTLE.client_blocked_until(client, now, max(1, max_failed - 1), lock_minutes)
        if blocked is not None:
            raise AuthError(f"Zu viele Fehlversuche von diesem Zugang. Bitte nach {blocked.strftime('%H:%M')} Uhr (UTC) "
                            "erneut versuchen.")
    cur0 = con.cursor()
    try:
        seen = _row(cur0, name)
    finally:
        cur0.close()
    locked = seen is not None and seen["gesperrt_bis"] is not None and seen["gesperrt_bis"] > now
    checked_hash = None if seen is None or locked else seen["passwort_hash"]
    # Same work for an unknown or locked account as for an existing one (no timing hint).
    ok = verify_password(checked_hash, password) and not locked
    with db.transaction(con) as cur:
        u = _row(cur, name)
        if u is not None and not (u["gesperrt_bis"] is not None and u["gesperrt_bis"] > now) \
                and u["passwort_hash"] != checked_hash:  # changed between the check and the lock (rare)
            ok = verify_password(u["passwort_hash"], password)
        if u is None:
            # the typed name is not stored: it may be a password typed into the name field
            db.audit(cur, "unbekannt", "anmeldung_fehlgeschlagen", None, json.dumps({"grund": "unbekannt"}))
            phantom_until = THROTTLE.unknown_state(name, now)
            if phantom_until is not None:
                failure = _locked_error(phantom_until)
            else:
                THROTTLE.unknown_failed(name, now, max_failed, lock_minutes)
                failure = wrong
        elif u["gesperrt_bis"] is not None and u["gesperrt_bis"] > now:
            failure = _locked_error(u["gesperrt_bis"])
            db.audit(cur, name, "anmeldung_fehlgeschlagen", name, json.dumps({"grund": "gesperrt"}))
        elif not ok:
            failed = int(u["fehlversuche"] or 0) + 1
            until = now + timedelta(minutes=lock_minutes) if failed >= max_failed else None
            cur.execute("UPDATE benutzer SET fehlversuche = ?, gesperrt_bis = ? WHERE name = ?",
                        [0 if until else failed, until, name])
            db.audit(cur, name, "anmeldung_fehlgeschlagen", name,
                     json.dumps({"grund": "passwort", "fehlversuche": failed, "gesperrt": until is not None}))
            failure = wrong
        elif u["deaktiviert"]:
            db.audit(cur, name, "anmeldung_fehlgeschlagen", name, json.dumps({"grund": "deaktiviert"}))
            failure = AuthError("Dieses Konto ist deaktiviert. Bitte an die Administration wenden.")
        else:
            cur.execute("UPDATE benutzer SET fehlversuche = 0, gesperrt_bis = NULL, letzte_anmeldung = ? WHERE name = ?",
                        [now, name])
            db.audit(cur, name, "anmeldung", name, None)
            return Actor(u["name"], u["rolle"], raw_data=bool(u["rohdaten"]))
    if client is not None and failure is not None:
        THROTTLE.client_failed(client, now)
    raise failure


def lookup(con, name: str) -> Actor | None:
    """The current Actor for an account (role changes apply at once); None if missing or deactivated."""
    u = _row(con.cursor(), name)
    if u is None or u["deaktiviert"]:
        return None
    return Actor(u["name"], u["rolle"], raw_data=bool(u["rohdaten"]))


def has_accounts(con) -> bool:
    return bool(con.cursor().execute("SELECT count(*) FROM benutzer").fetchone()[0])


def users(con) -> pd.DataFrame:
    """All accounts without password hashes."""
    return db.query_df(
        con,
        "SELECT name, rolle, rohdaten, deaktiviert, passwort_hash IS NOT NULL AS lokales_passwort, fehlversuche,"
        " gesperrt_bis, angelegt_am, angelegt_von, passwort_geaendert_am, letzte_anmeldung FROM benutzer ORDER BY name",
    )


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise AuthError(f"Ungültiger Benutzername „{name}“: 2–100 Zeichen aus Buchstaben, Ziffern und . _ @ + -.")
    return name


def add_user(con, actor: Actor, name: str, role: str, password: str | None, raw_data: bool = False) -> None:
    """Create an account (``password`` None: OIDC-only entry without local login)."""
    require(actor, ADMIN, "Benutzer anlegen")
    name, role = _check_name(name), parse_role(role)
    pw_hash = hash_password(password) if password is not None else None
    with db.transaction(con) as cur:
        if _row(cur, name) is not None:
            raise AuthError(f"Den Benutzer „{name}“ gibt es schon. Rolle ändern: `user set-role`, Passwort: `user reset-password`.")
        cur.execute(
            "INSERT INTO benutzer (name, passwort_hash, rolle, rohdaten, angelegt_von, passwort_geaendert_am)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [name, pw_hash, role, bool(raw_data), actor.name, _now() if pw_hash else None],
        )
        db.audit(cur, actor.name, "benutzer_anlegen", name, json.dumps({"rolle": role, "rohdaten": bool(raw_data)}, ensure_ascii=False))


def _existing(cur, name: str) -> dict:
    u = _row(cur, name)
    if u is None:
        raise AuthError(f"Den Benutzer „{name}“ gibt es nicht. Anlegen mit `python -m quartier user add`.")
    return u


def set_role(con, actor: Actor, name: str, role: str, raw_data: bool | None = None) -> None:
    require(actor, ADMIN, "Rollen ändern")
    role = parse_role(role)
    with db.transaction(con) as cur:
        u = _existing(cur, name)
        raw = bool(u["rohdaten"]) if raw_data is None else bool(raw_data)
        if u["rolle"] == ADMIN and role != ADMIN:
            _keep_one_admin(cur, name)
        cur.execute("UPDATE benutzer SET rolle = ?, rohdaten = ? WHERE name = ?", [role, raw, name])
        db.audit(cur, actor.name, "benutzer_rolle", name,
                 json.dumps({"alt": u["rolle"], "neu": role, "rohdaten": raw}, ensure_ascii=False))
        if (role, raw) != (u["rolle"], bool(u["rohdaten"])):
            _end_sessions(cur, actor, name, "rolle")


def set_disabled(con, actor: Actor, name: str, disabled: bool = True) -> None:
    require(actor, ADMIN, "Benutzer deaktivieren")
    with db.transaction(con) as cur:
        u = _existing(cur, name)
        if disabled and u["rolle"] == ADMIN:
            _keep_one_admin(cur, name)
        cur.execute("UPDATE benutzer SET deaktiviert = ? WHERE name = ?", [bool(disabled), name])
        db.audit(cur, actor.name, "benutzer_deaktivieren" if disabled else "benutzer_aktivieren", name, None)
        if disabled:
            _end_sessions(cur, actor, name, "deaktiviert")


def reset_password(con, actor: Actor, name: str, password: str) -> None:
    """Set a new password and lift a lockout."""
    require(actor, ADMIN, "Passwörter zurücksetzen")
    pw_hash = hash_password(password)
    with db.transaction(con) as cur:
        _existing(cur, name)
        cur.execute("UPDATE benutzer SET passwort_hash = ?, fehlversuche = 0, gesperrt_bis = NULL, passwort_geaendert_am = ?"
                    " WHERE name = ?", [pw_hash, _now(), name])
        db.audit(cur, actor.name, "passwort_zuruecksetzen", name, None)
        _end_sessions(cur, actor, name, "passwort")


def _end_sessions(cur, actor: Actor, name: str, reason: str) -> None:
    """A password, role or status change ends the account's open sessions (audited when there were any)."""
    if sessions.end_all_in(cur, name, reason):
        db.audit(cur, actor.name, "sitzung_beenden", name,
                 json.dumps({"grund": sessions.REASONS[reason], "sitzungen": "alle"}, ensure_ascii=False))


def _keep_one_admin(cur, name: str) -> None:
    n = cur.execute("SELECT count(*) FROM benutzer WHERE rolle = ? AND NOT deaktiviert AND name <> ?", [ADMIN, name]).fetchone()[0]
    if n == 0:
        raise AuthError(f"„{name}“ ist das letzte aktive Administrationskonto: erst ein weiteres anlegen.")


def ensure_demo_accounts(con) -> list[str]:
    """Create the documented demo accounts (only in a demo database). Returns the names created."""
    if db.get_setting(con, "demo", "0") != "1":
        raise AuthError("Demo-Konten gibt es nur in der Demo-Datenbank.")
    created = []
    with db.transaction(con) as cur:
        for name, role, password in DEMO_ACCOUNTS:
            if _row(cur, name) is None:
                cur.execute(
                    "INSERT INTO benutzer (name, passwort_hash, rolle, angelegt_von, passwort_geaendert_am) VALUES (?, ?, ?, 'demo', ?)",
                    [name, _HASHER.hash(password), role, _now()],
                )
                created.append(name)
        if created:
            db.audit(cur, "demo", "demo_konten_anlegen", ", ".join(created), None)
    return created


# ------------------------------------------------------------------------------------------ OIDC

MIN_COOKIE_SECRET = 32


def oidc_config_problems(auth_section: dict) -> list[str]:
    """What is wrong with an ``[auth]`` section before OIDC may start (German; empty = fine).

    Attack review: the app started with the example ``cookie_secret`` from ``secrets.toml.example``, which
    anyone can read, so anyone could forge the login cookie. A placeholder ("HIER-…") or a secret shorter
    than 32 characters is refused.
    """
    problems = []
    sections = [auth_section] + [v for v in auth_section.values() if isinstance(v, dict)]
    secret = str(auth_section.get("cookie_secret") or "")
    if not secret or secret.upper().startswith("HIER-") or len(secret) < MIN_COOKIE_SECRET:
        problems.append("cookie_secret ist leer, zu kurz oder noch der Platzhalter aus secrets.toml.example: bitte ein "
                        "eigenes Geheimnis eintragen (z. B. python -c \"import secrets; print(secrets.token_hex(32))\").")
    for sec in sections:
        for key in ("client_secret", "client_id", "redirect_uri", "server_metadata_url"):
            v = sec.get(key)
            if isinstance(v, str) and v.upper().startswith("HIER-"):
                problems.append(f"{key} ist noch der Platzhalter aus secrets.toml.example.")
    return problems


def oidc_actor(claims: dict, config: dict | None, con=None) -> Actor | None:
    """Map the identity token's claims to an Actor, or None when the person has no role here.

    ``config`` is the ``[quartier_roles]`` section of secrets.toml::

        claim = "groups"                 # claim holding group or role names (string or list)
        default = ""                     # role for everyone else ("" = no access)
        [quartier_roles.map]             # claim value -> role
        "jhp-planung" = "Bearbeitung"
        [quartier_roles.users]           # e-mail or user name -> role (wins over the claim)
        "leitung@stadt.example" = "Administration"

    A local ``benutzer`` entry with the same name that is deactivated blocks the login.
    """
    config = dict(config or {})
    name = str(claims.get("email") or claims.get("preferred_username") or claims.get("sub") or "").strip()
    if not name:
        return None
    if con is not None:
        u = _row(con.cursor(), name)
        if u is not None and u["deaktiviert"]:
            return None
    rank = {VIEWER: 0, EDITOR: 1, ADMIN: 2}
    role = None
    per_user = {str(k).lower(): v for k, v in dict(config.get("users") or {}).items()}
    if name.lower() in per_user:
        role = parse_role(per_user[name.lower()])
    else:
        values = claims.get(str(config.get("claim") or "roles"))
        if isinstance(values, str):
            values = [values]
        mapping = dict(config.get("map") or {})
        found = []
        for v in values or []:
            if v in mapping:
                found.append(parse_role(mapping[v]))
            elif str(v).lower() in ROLE_ALIASES:
                found.append(parse_role(str(v)))
        if found:
            role = max(found, key=rank.__getitem__)
        elif config.get("default"):
            role = parse_role(str(config["default"]))
    if role is None:
        return None
    return Actor(name, role, raw_data=False)


# ------------------------------------------------------------------------------------------ settings

# Security-relevant settings an administrator may change in the app: key -> (label, minimum, maximum, default)
SECURITY_SETTINGS = {s.key: (s.label, s.minimum, s.maximum, s.default) for s in settings.group("sicherheit")}


def security_settings(con) -> dict[str, int]:
    return {key: settings.read_int(con, key) for key in SECURITY_SETTINGS}


def save_security_settings(con, actor: Actor, values: dict) -> dict[str, tuple]:
    """Store changed security settings (administration only); returns {key: (old, new)} of the changes."""
    require(actor, ADMIN, "Sicherheitseinstellungen ändern")
    current = security_settings(con)
    changes = {}
    for key, value in values.items():
        if key not in SECURITY_SETTINGS:
            raise AuthError(f"Unbekannte Einstellung „{key}“.")
        label, lo, hi, _ = SECURITY_SETTINGS[key]
        try:
            v = int(value)
        except (TypeError, ValueError) as exc:
            raise AuthError(f"{label}: bitte eine ganze Zahl eingeben.") from exc
        if not lo <= v <= hi:
            raise AuthError(f"{label}: erlaubt sind {lo} bis {hi}.")
        if v != current[key]:
            changes[key] = (current[key], v)
    if changes:
        with db.transaction(con) as cur:
            for key, (_old, new) in changes.items():
                db.set_setting(cur, key, str(new))
            db.audit(cur, actor.name, "einstellungen_aendern", "sicherheit",
                     json.dumps({k: {"alt": o, "neu": n} for k, (o, n) in changes.items()}, ensure_ascii=False))
    return changes

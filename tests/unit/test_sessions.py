"""Staying logged in (core): signed cookie values, hashed session ids, idle timeout, every way a session ends."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from quartier import db
from quartier.access import ADMIN, EDITOR, VIEWER, Actor, PermissionDenied
from quartier.admin import auth, sessions
from tests.password_hashes import use_cheap_hashes

ADMIN_ACTOR = Actor("chefin", ADMIN)
PW = "richtig-langes-passwort"
T0 = datetime(2026, 12, 4, 8, 0)


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch):
    """Sessions are not about the hash parameters (tests/unit/test_auth.py checks the product's)."""
    use_cheap_hashes(monkeypatch)


@pytest.fixture
def con(empty_con):
    auth.add_user(empty_con, ADMIN_ACTOR, "chefin", "Administration", PW)
    auth.add_user(empty_con, ADMIN_ACTOR, "m.muster", "Bearbeitung", PW)
    auth.add_user(empty_con, ADMIN_ACTOR, "b.vertretung", "Betrachtung", PW)
    return empty_con


def audit(con, action):
    return con.cursor().execute("SELECT benutzer, objekt, details FROM audit_log WHERE aktion = ? ORDER BY id",
                                [action]).fetchall()


def rows(con):
    return con.cursor().execute("SELECT kennung_hash, benutzer, beendet_grund FROM sitzung ORDER BY angelegt_am").fetchall()


def test_sign_and_verify_roundtrip_and_tamper():
    key = bytes(range(32))
    sid = "A" * 43
    value = sessions.sign(key, sid)
    assert sessions.unsign(key, value) == sid
    assert sessions.unsign(bytes(32), value) is None                      # another installation's key
    assert sessions.unsign(key, "B" + value[1:]) is None                  # the id changed
    sig = value.split(".")[1]
    assert sessions.unsign(key, f"{sid}.{('x' if sig[0] != 'x' else 'y')}{sig[1:]}") is None  # signature changed
    for bad in (None, "", sid, f"{sid}.", f".{sig}", value + "x", "a.b", "ä" * 43 + "." + sig, value * 5):
        assert sessions.unsign(key, bad) is None, bad


def test_session_id_is_random_and_only_its_hash_is_stored(con):
    value, s = sessions.create(con, "m.muster", user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", now=T0)
    value2, s2 = sessions.create(con, "m.muster", now=T0)
    sid = value.split(".")[0]
    assert len(sid) == 43 and value != value2 and s.key != s2.key
    assert s.key == sessions.key_of(sid) and len(s.key) == 64
    stored = " ".join(str(c) for r in con.cursor().execute("SELECT * FROM sitzung").fetchall() for c in r)
    assert sid not in stored and value2.split(".")[0] not in stored and s.key in stored
    assert sessions.resume(con, value, now=T0 + timedelta(minutes=5)) == sessions.Session(s.key, "m.muster")
    # the signing key is created once per installation and kept
    assert sessions.signing_key(con) == sessions.signing_key(con) and len(sessions.signing_key(con)) == 32


def test_signing_key_differs_between_installations(tmp_path):
    a, b = db.connect(tmp_path / "a.duckdb"), db.connect(tmp_path / "b.duckdb")
    try:
        assert sessions.signing_key(a) != sessions.signing_key(b)
    finally:
        a.close()
        b.close()


def test_a_forged_or_foreign_cookie_is_refused(con, tmp_path):
    value, _ = sessions.create(con, "m.muster", now=T0)
    sid, sig = value.split(".")
    assert sessions.resume(con, f"{sid[:-1]}{'A' if sid[-1] != 'A' else 'B'}.{sig}", now=T0) is None
    # a correctly signed cookie of an id that was never issued (the key alone is not enough)
    made_up = sessions.sign(sessions.signing_key(con), "Z" * 43)
    assert sessions.resume(con, made_up, now=T0) is None
    other = db.connect(tmp_path / "other.duckdb")
    try:
        auth.add_user(other, ADMIN_ACTOR, "m.muster", "Bearbeitung", PW)
        assert sessions.resume(other, value, now=T0) is None   # the same account in another installation
    finally:
        other.close()


def test_idle_timeout_from_settings(con):
    assert sessions.idle_minutes(con) == 480
    value, s = sessions.create(con, "m.muster", now=T0)
    # activity keeps it alive past the idle time counted from the login
    assert sessions.resume(con, value, now=T0 + timedelta(hours=7)) is not None
    assert sessions.resume(con, value, now=T0 + timedelta(hours=14)) is not None
    assert sessions.resume(con, value, now=T0 + timedelta(hours=22, minutes=1)) is None   # 8 h idle
    assert rows(con)[0][2] == "inaktiv"
    assert sessions.resume(con, value, now=T0 + timedelta(hours=14)) is None    # ended stays ended
    auth.save_security_settings(con, ADMIN_ACTOR, {"sitzung_leerlauf_minuten": 30})
    value, s = sessions.create(con, "m.muster", now=T0)
    assert sessions.check(con, s.key, now=T0 + timedelta(minutes=29)) == "m.muster"
    assert sessions.check(con, s.key, now=T0 + timedelta(minutes=60)) is None


def test_activity_is_written_at_most_once_a_minute(con):
    _, s = sessions.create(con, "m.muster", now=T0)
    before = db.generation()
    sessions.check(con, s.key, now=T0 + timedelta(seconds=30))
    assert db.generation() == before
    sessions.check(con, s.key, now=T0 + timedelta(seconds=90))
    last = con.cursor().execute("SELECT zuletzt_aktiv FROM sitzung").fetchone()[0]
    assert last == T0 + timedelta(seconds=90)


def test_logout_ends_the_session_and_is_audited(con):
    value, s = sessions.create(con, "m.muster", now=T0)
    _, other = sessions.create(con, "m.muster", now=T0)
    assert sessions.logout(con, s.key) is True
    assert sessions.resume(con, value, now=T0) is None
    assert sessions.check(con, other.key, now=T0) == "m.muster"     # another browser stays logged in
    assert sessions.logout(con, s.key) is False                      # twice: nothing more
    (who, obj, details), = audit(con, "abmeldung")
    assert who == "m.muster" and obj == "m.muster" and json.loads(details)["sitzungen"] == [s.key[:8]]


def test_end_all_own_sessions_and_admin_revocation(con):
    _, a = sessions.create(con, "m.muster", now=T0)
    _, b = sessions.create(con, "m.muster", now=T0)
    _, c = sessions.create(con, "b.vertretung", now=T0)
    me = Actor("m.muster", EDITOR)
    with pytest.raises(PermissionDenied):
        sessions.end_sessions(con, "b.vertretung", actor=me)
    with pytest.raises(PermissionDenied):
        sessions.end_sessions(con, "b.vertretung", actor=me, key=c.key)
    assert sessions.end_sessions(con, "m.muster", actor=me) == 2
    assert sessions.check(con, a.key, now=T0) is None and sessions.check(con, b.key, now=T0) is None
    assert sessions.check(con, c.key, now=T0) == "b.vertretung"
    # an administrator ends one session of another account
    assert sessions.end_sessions(con, "b.vertretung", actor=ADMIN_ACTOR, key=c.key) == 1
    assert sessions.check(con, c.key, now=T0) is None
    log = audit(con, "sitzung_beenden")
    assert [(w, o) for w, o, _ in log] == [("m.muster", "m.muster"), ("chefin", "b.vertretung")]
    assert json.loads(log[0][2])["grund"] == "alle Sitzungen beendet"
    assert json.loads(log[1][2]) == {"grund": "von der Administration beendet", "sitzungen": [c.key[:8]]}


@pytest.mark.parametrize("change, reason", [
    (lambda con: auth.reset_password(con, ADMIN_ACTOR, "m.muster", "ein-ganz-neues-passwort"), "passwort"),
    (lambda con: auth.set_role(con, ADMIN_ACTOR, "m.muster", "Betrachtung"), "rolle"),
    (lambda con: auth.set_role(con, ADMIN_ACTOR, "m.muster", "Bearbeitung", raw_data=True), "rolle"),
    (lambda con: auth.set_disabled(con, ADMIN_ACTOR, "m.muster"), "deaktiviert"),
])
def test_password_role_or_status_change_ends_all_sessions(con, change, reason):
    v1, _ = sessions.create(con, "m.muster", now=T0)
    v2, _ = sessions.create(con, "m.muster", now=T0)
    v3, _ = sessions.create(con, "b.vertretung", now=T0)
    now = T0 + timedelta(minutes=1)
    assert sessions.resume(con, v1, now=now) and sessions.resume(con, v2, now=now)
    change(con)
    assert sessions.resume(con, v1, now=now) is None and sessions.resume(con, v2, now=now) is None
    assert sessions.resume(con, v3, now=now) is not None
    assert {r[2] for r in rows(con) if r[1] == "m.muster"} == {reason}
    (who, obj, details), = audit(con, "sitzung_beenden")
    assert who == "chefin" and obj == "m.muster" and json.loads(details)["grund"] == sessions.REASONS[reason]


def test_an_unchanged_role_or_enabling_keeps_sessions(con):
    v, _ = sessions.create(con, "m.muster", now=T0)
    auth.set_role(con, ADMIN_ACTOR, "m.muster", "Bearbeitung")          # same role, same raw-value right
    auth.set_disabled(con, ADMIN_ACTOR, "m.muster", disabled=False)
    assert sessions.resume(con, v, now=T0 + timedelta(minutes=1)) is not None
    assert audit(con, "sitzung_beenden") == []


def test_a_disabled_or_deleted_account_has_no_valid_session(con):
    v, s = sessions.create(con, "m.muster", now=T0)
    with db.transaction(con) as cur:   # disabled behind the app's back (no call of set_disabled)
        cur.execute("UPDATE benutzer SET deaktiviert = TRUE WHERE name = 'm.muster'")
    assert sessions.resume(con, v, now=T0) is None
    v, s = sessions.create(con, "ghost", now=T0)
    assert sessions.resume(con, v, now=T0) is None


def test_open_sessions_list_admin_sees_all_others_their_own(con):
    sessions.create(con, "m.muster", user_agent="Mozilla/5.0 (Windows NT 10.0) AppleWebKit Chrome/131.0 Safari/537", now=T0)
    sessions.create(con, "b.vertretung", user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0",
                    now=T0 + timedelta(minutes=1))
    _, gone = sessions.create(con, "b.vertretung", now=T0)
    sessions.logout(con, gone.key)
    now = T0 + timedelta(minutes=2)
    df = sessions.open_sessions(con, actor=ADMIN_ACTOR, now=now)
    assert list(df["benutzer"]) == ["b.vertretung", "m.muster"]
    assert list(df["browser"]) == ["Firefox unter Linux", "Chrome unter Windows"]
    assert all(len(k) == 8 for k in df["kennung"])
    own = sessions.open_sessions(con, actor=Actor("b.vertretung", VIEWER), now=now)
    assert list(own["benutzer"]) == ["b.vertretung"]
    assert sessions.open_sessions(con, actor=ADMIN_ACTOR, now=T0 + timedelta(hours=9)).empty   # idle: not listed


def test_old_sessions_are_cleaned_up(con):
    _, old = sessions.create(con, "m.muster", now=T0 - timedelta(days=40))
    sessions.create(con, "m.muster", now=T0)
    assert old.key not in {r[0] for r in rows(con)}


def test_tickets_are_one_time_and_short_lived():
    t = sessions.Tickets()
    ticket = t.issue("wert", now=T0)
    assert t.redeem("falsch", now=T0) is None
    assert t.redeem(ticket, now=T0 + timedelta(seconds=10)) == "wert"
    assert t.redeem(ticket, now=T0 + timedelta(seconds=10)) is None       # once
    late = t.issue("wert", now=T0)
    assert t.redeem(late, now=T0 + timedelta(seconds=sessions.TICKET_SECONDS + 1)) is None

"""Local accounts: Argon2 hashes, login, lockout, roles, deactivation, OIDC role mapping, `user` CLI."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import pytest

from quartier import db
from quartier.access import ADMIN, EDITOR, VIEWER, Actor, PermissionDenied
from quartier.admin import auth
from quartier.cli.base import main

ADMIN_ACTOR = Actor("chefin", ADMIN)
PW = "richtig-langes-passwort"

def audit_rows(con, action=None):
    sql = "SELECT benutzer, aktion, objekt, coalesce(details, '') FROM audit_log"
    if action:
        return con.cursor().execute(sql + " WHERE aktion = ? ORDER BY id", [action]).fetchall()
    return con.cursor().execute(sql + " ORDER BY id").fetchall()


@pytest.mark.strong_hashes  # with the product's own parameters (every other test runs with cheap ones: tests/conftest.py)
def test_hash_is_argon2id_and_verifies():
    from argon2 import extract_parameters
    from argon2.profiles import RFC_9106_LOW_MEMORY

    h = auth.hash_password(PW)
    assert h.startswith("$argon2id$") and PW not in h
    # the product hashes with the library's recommended parameters (64 MiB, 3 passes), also for unknown names
    assert extract_parameters(h) == RFC_9106_LOW_MEMORY
    assert extract_parameters(auth._dummy_hash()) == RFC_9106_LOW_MEMORY
    assert auth.verify_password(h, PW)
    assert not auth.verify_password(h, PW + "x")
    assert not auth.verify_password(None, PW)
    assert not auth.verify_password("kein-hash", PW)
    with pytest.raises(auth.AuthError, match="mindestens 10"):
        auth.hash_password("kurz")


def test_no_default_accounts_outside_demo(empty_con):
    assert auth.users(empty_con).empty
    with pytest.raises(auth.AuthError):
        auth.authenticate(empty_con, "admin", "demo-administration")
    with pytest.raises(auth.AuthError, match="Demo"):
        auth.ensure_demo_accounts(empty_con)


def test_demo_accounts_in_demo_database(con):
    u = auth.users(con).set_index("name")
    assert u.loc["betrachtung", "rolle"] == VIEWER and u.loc["bearbeitung", "rolle"] == EDITOR and u.loc["admin", "rolle"] == ADMIN
    assert auth.authenticate(con, "betrachtung", "demo-betrachtung") == Actor("betrachtung", VIEWER, raw_data=False)
    assert "passwort_hash" not in auth.users(con).columns


def test_login_success_failure_messages_and_audit(empty_con):
    auth.add_user(empty_con, ADMIN_ACTOR, "m.muster", "Bearbeitung", PW)
    actor = auth.authenticate(empty_con, "m.muster", PW)
    assert actor.name == "m.muster" and actor.role == EDITOR and actor.can_see_raw
    with pytest.raises(auth.AuthError) as wrong_pw:
        auth.authenticate(empty_con, "m.muster", "falsches-passwort")
    with pytest.raises(auth.AuthError) as unknown:
        auth.authenticate(empty_con, "niemand", "falsches-passwort")
    assert str(wrong_pw.value) == str(unknown.value) == "Benutzername oder Passwort ist falsch."
    actions = [r[1] for r in audit_rows(empty_con)]
    assert actions == ["benutzer_anlegen", "anmeldung", "anmeldung_fehlgeschlagen", "anmeldung_fehlgeschlagen"]
    assert all(PW not in " ".join(map(str, r)) for r in audit_rows(empty_con))


def test_lockout_after_failed_attempts_and_reset(empty_con):
    with db.transaction(empty_con) as cur:
        db.set_setting(cur, "login_max_fehlversuche", "3")
        db.set_setting(cur, "login_sperre_minuten", "10")
    auth.add_user(empty_con, ADMIN_ACTOR, "ziel", "Betrachtung", PW)
    t0 = datetime(2026, 1, 5, 9, 0)
    for i in range(3):
        with pytest.raises(auth.AuthError, match="falsch"):
            auth.authenticate(empty_con, "ziel", f"geraten-{i}-xxxx", now=t0)
    # locked: even the right password is refused, with a German explanation
    with pytest.raises(auth.AuthError, match="Zu viele Fehlversuche"):
        auth.authenticate(empty_con, "ziel", PW, now=t0 + timedelta(minutes=5))
    # after the lock time the right password works again
    assert auth.authenticate(empty_con, "ziel", PW, now=t0 + timedelta(minutes=11)).name == "ziel"
    # an administrator's reset lifts a lock at once
    for i in range(3):
        with pytest.raises(auth.AuthError):
            auth.authenticate(empty_con, "ziel", f"geraten-{i}-yyyy", now=t0 + timedelta(minutes=20))
    auth.reset_password(empty_con, ADMIN_ACTOR, "ziel", "ganz-neues-passwort")
    assert auth.authenticate(empty_con, "ziel", "ganz-neues-passwort", now=t0 + timedelta(minutes=21)).role == VIEWER


def test_roles_disable_and_last_admin(empty_con):
    auth.add_user(empty_con, ADMIN_ACTOR, "a1", "admin", PW)
    auth.add_user(empty_con, ADMIN_ACTOR, "v1", "Betrachtung", PW, raw_data=True)
    assert auth.lookup(empty_con, "v1") == Actor("v1", VIEWER, raw_data=True)
    auth.set_role(empty_con, ADMIN_ACTOR, "v1", "Bearbeitung")
    assert auth.lookup(empty_con, "v1").role == EDITOR
    with pytest.raises(auth.AuthError, match="letzte"):
        auth.set_role(empty_con, ADMIN_ACTOR, "a1", "Betrachtung")
    with pytest.raises(auth.AuthError, match="letzte"):
        auth.set_disabled(empty_con, ADMIN_ACTOR, "a1")
    auth.set_disabled(empty_con, ADMIN_ACTOR, "v1")
    assert auth.lookup(empty_con, "v1") is None
    with pytest.raises(auth.AuthError, match="deaktiviert"):
        auth.authenticate(empty_con, "v1", PW)
    auth.set_disabled(empty_con, ADMIN_ACTOR, "v1", disabled=False)
    assert auth.authenticate(empty_con, "v1", PW).role == EDITOR
    with pytest.raises(auth.AuthError, match="gibt es schon"):
        auth.add_user(empty_con, ADMIN_ACTOR, "v1", "Betrachtung", PW)
    with pytest.raises(auth.AuthError, match="Unbekannte Rolle"):
        auth.set_role(empty_con, ADMIN_ACTOR, "v1", "Chef")


@pytest.mark.parametrize("actor", [None, Actor("x", VIEWER), Actor("y", EDITOR), Actor("z", VIEWER, raw_data=True)])
def test_user_administration_needs_admin(empty_con, actor):
    auth.add_user(empty_con, ADMIN_ACTOR, "ziel", "Betrachtung", PW)
    before = audit_rows(empty_con)
    for call in (
        lambda: auth.add_user(empty_con, actor, "neu", "Administration", PW),
        lambda: auth.set_role(empty_con, actor, "ziel", "Administration"),
        lambda: auth.set_disabled(empty_con, actor, "ziel"),
        lambda: auth.reset_password(empty_con, actor, "ziel", "uebernommen-123"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert audit_rows(empty_con) == before
    assert list(auth.users(empty_con)["name"]) == ["ziel"] and auth.lookup(empty_con, "ziel").role == VIEWER


def test_oidc_claims_to_roles(empty_con):
    cfg = {"claim": "groups", "map": {"jhp-planung": "Bearbeitung", "bv-nord": "Betrachtung"},
           "users": {"Leitung@Stadt.example": "Administration"}}
    assert auth.oidc_actor({"email": "a@stadt.example", "groups": ["bv-nord"]}, cfg).role == VIEWER
    assert auth.oidc_actor({"email": "a@stadt.example", "groups": ["bv-nord", "jhp-planung"]}, cfg).role == EDITOR
    assert auth.oidc_actor({"email": "leitung@stadt.example", "groups": []}, cfg).role == ADMIN
    assert auth.oidc_actor({"email": "fremd@stadt.example", "groups": ["andere"]}, cfg) is None
    assert auth.oidc_actor({"email": "fremd@stadt.example"}, {**cfg, "default": "Betrachtung"}).role == VIEWER
    assert auth.oidc_actor({"email": "x@y", "groups": "jhp-planung"}, cfg).role == EDITOR  # single string claim
    assert auth.oidc_actor({"email": "a@stadt.example", "groups": ["bv-nord"]}, cfg).raw_data is False
    # a deactivated local entry blocks the OIDC login
    auth.add_user(empty_con, ADMIN_ACTOR, "a@stadt.example", "Betrachtung", None)
    auth.set_disabled(empty_con, ADMIN_ACTOR, "a@stadt.example")
    assert auth.oidc_actor({"email": "a@stadt.example", "groups": ["jhp-planung"]}, cfg, empty_con) is None


# ---------------------------------------------------------------------------------------------- CLI


def run_cli(monkeypatch, argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def test_user_cli_round_trip(tmp_path, monkeypatch, capsys):
    dbf = str(tmp_path / "q.duckdb")
    db.connect(dbf).close()  # only init/demo/synth create a database (a mistyped --db must not)
    assert run_cli(monkeypatch, ["user", "add", "s.klein", "--role", "Bearbeitung", "--password-stdin", "--db", dbf,
                                 "--user", "admin-cli"], PW + "\n") == 0
    assert run_cli(monkeypatch, ["user", "set-role", "s.klein", "admin", "--db", dbf]) == 0
    assert run_cli(monkeypatch, ["user", "reset-password", "s.klein", "--password-stdin", "--db", dbf], "noch-ein-passwort\n") == 0
    assert run_cli(monkeypatch, ["user", "add", "b.bv", "--role", "Betrachtung", "--password-stdin", "--db", dbf], PW + "\n") == 0
    assert run_cli(monkeypatch, ["user", "disable", "b.bv", "--db", dbf]) == 0
    capsys.readouterr()
    assert run_cli(monkeypatch, ["user", "list", "--json", "--db", dbf]) == 0
    out = capsys.readouterr()
    rows = {r["name"]: r for r in json.loads(out.out)}
    assert rows["s.klein"]["rolle"] == ADMIN and rows["b.bv"]["deaktiviert"] is True
    # errors: unknown role = usage (2), duplicate = rejected (1), too short = rejected (1), no password on stdin = 2
    assert run_cli(monkeypatch, ["user", "add", "x.y", "--role", "Chef", "--password-stdin", "--db", dbf], PW + "\n") == 2
    assert run_cli(monkeypatch, ["user", "add", "s.klein", "--role", "Betrachtung", "--password-stdin", "--db", dbf], PW + "\n") == 1
    assert run_cli(monkeypatch, ["user", "add", "k.urz", "--role", "Betrachtung", "--password-stdin", "--db", dbf], "kurz\n") == 1
    assert run_cli(monkeypatch, ["user", "add", "k.urz", "--role", "Betrachtung", "--password-stdin", "--db", dbf], "") == 2
    assert run_cli(monkeypatch, ["user", "add", "k.urz", "--role", "Betrachtung", "--db", dbf]) == 2  # no terminal
    everything = capsys.readouterr()
    c = db.connect(dbf)
    try:
        assert auth.authenticate(c, "s.klein", "noch-ein-passwort").role == ADMIN
        log = audit_rows(c)
    finally:
        c.close()
    # the password never appears on stdout/stderr or in the audit log
    for secret in (PW, "noch-ein-passwort"):
        assert secret not in everything.out + everything.err + out.out + out.err
        assert all(secret not in " ".join(map(str, r)) for r in log)
    assert ("admin-cli", "benutzer_anlegen", "s.klein") == log[0][:3]


def test_user_help_is_german(capsys):
    with pytest.raises(SystemExit):
        main(["user", "add", "--help"])
    text = capsys.readouterr().out
    assert "Aufruf:" in text and "Passwort" in text and "Rolle" in text


def test_concurrent_logins_all_counted(empty_con):
    """The Argon2 check runs outside the write lock (so simultaneous logins do not queue behind each
    other's hashing); wrong guesses made at the same moment must still all count towards the lockout."""
    from concurrent.futures import ThreadPoolExecutor

    with db.transaction(empty_con) as cur:
        db.set_setting(cur, "login_max_fehlversuche", "4")
    auth.add_user(empty_con, ADMIN_ACTOR, "ziel", "Betrachtung", PW)
    auth.add_user(empty_con, ADMIN_ACTOR, "gast", "Betrachtung", PW)
    t0 = datetime(2026, 1, 5, 9, 0)

    def guess(i):
        try:
            auth.authenticate(empty_con, "ziel", f"geraten-{i}-xxxx", now=t0)
        except auth.AuthError as exc:
            return str(exc)
        return "angemeldet"

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(guess, range(4)))
        good = list(pool.map(lambda _: auth.authenticate(empty_con, "gast", PW, now=t0).name, range(4)))
    assert answers == ["Benutzername oder Passwort ist falsch."] * 4
    assert good == ["gast"] * 4
    assert len(audit_rows(empty_con, "anmeldung_fehlgeschlagen")) == 4
    with pytest.raises(auth.AuthError, match="Zu viele Fehlversuche"):  # the 4 parallel guesses locked it
        auth.authenticate(empty_con, "ziel", PW, now=t0 + timedelta(minutes=1))


# --- attacks from the security review: locking other people's accounts, learning names, passwords in the log


@pytest.fixture
def fresh_throttle():
    auth.THROTTLE.clear()
    yield auth.THROTTLE
    auth.THROTTLE.clear()


def test_one_client_cannot_lock_the_administrator(empty_con, fresh_throttle):
    with db.transaction(empty_con) as cur:
        db.set_setting(cur, "login_max_fehlversuche", "5")
    auth.add_user(empty_con, ADMIN_ACTOR, "chefin", "Administration", PW)
    t0 = datetime(2026, 1, 5, 9, 0)
    answers = []
    for i in range(10):  # the attacker keeps guessing from one browser
        with pytest.raises(auth.AuthError) as exc:
            auth.authenticate(empty_con, "chefin", f"geraten-{i}-xxxx", now=t0, client="10.0.0.66")
        answers.append(str(exc.value))
    assert answers[:4] == ["Benutzername oder Passwort ist falsch."] * 4
    assert all("von diesem Zugang" in a for a in answers[4:])
    # the account itself is not locked: the administrator logs in from her own browser
    assert auth.authenticate(empty_con, "chefin", PW, now=t0, client="10.0.0.5").name == "chefin"


def test_unknown_names_get_the_same_answers_as_accounts(empty_con, fresh_throttle):
    with db.transaction(empty_con) as cur:
        db.set_setting(cur, "login_max_fehlversuche", "3")
    auth.add_user(empty_con, ADMIN_ACTOR, "vorhanden", "Betrachtung", PW)
    t0 = datetime(2026, 1, 5, 9, 0)

    def answers(name):
        out = []
        for i in range(5):
            with pytest.raises(auth.AuthError) as exc:
                auth.authenticate(empty_con, name, f"geraten-{i}-xxxx", now=t0)
            out.append(str(exc.value))
        return out

    assert answers("vorhanden") == answers("gibt-es-nicht")
    assert "Zu viele Fehlversuche" in answers("gibt-es-nicht")[-1]


def test_a_password_typed_as_user_name_is_not_logged(empty_con, fresh_throttle):
    with pytest.raises(auth.AuthError):
        auth.authenticate(empty_con, "Geheim-Passwort-123", "x" * 12)
    rows = audit_rows(empty_con, "anmeldung_fehlgeschlagen")
    assert rows and all("Geheim-Passwort-123" not in " ".join(map(str, r)) for r in rows)


def test_oidc_refuses_the_example_cookie_secret():
    """Attack review: the app started OIDC with the published example cookie_secret."""
    import tomllib
    from pathlib import Path

    example = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "secrets.toml.example").read_text())
    problems = auth.oidc_config_problems(example["auth"])
    assert any("cookie_secret" in p for p in problems) and any("client_secret" in p for p in problems)
    good = dict(example["auth"], cookie_secret="a" * 64, client_secret="s3cr3t-vom-anbieter")
    assert auth.oidc_config_problems(good) == []

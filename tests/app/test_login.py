"""The login gate in AppTest: login form, wrong password, role-filtered navigation, logout, page guard."""

from __future__ import annotations

import pytest

from quartier.access import EDITOR, VIEWER, Actor
from quartier.ui.pages import PAGES
from quartier.ui.session import ACTOR_KEY


def _login(at, user: str, password: str):
    at.text_input[0].input(user)
    at.text_input[1].input(password)
    at.button[0].click()
    at.run()
    return at


def test_nobody_logged_in_sees_only_the_login_form(run_page):
    at = run_page("views/uebersicht.py", actor=None)
    assert not at.exception
    assert at.title[0].value == "Anmeldung"
    assert [t.label for t in at.text_input] == ["Benutzername", "Passwort"]
    assert at.text_input[1].proto.type == at.text_input[1].proto.PASSWORD  # masked input
    assert not at.metric  # no figures before the login
    assert "Beispieldaten" in " ".join(i.value for i in at.info)


def test_login_form_wrong_then_right_password(run_page):
    at = run_page("views/uebersicht.py", actor=None)
    _login(at, "betrachtung", "falsch-falsch-falsch")
    assert any("falsch" in e.value for e in at.error)
    assert at.text_input[1].value == ""  # a wrong password does not stay in the form (nor in the session)
    assert ACTOR_KEY not in at.session_state
    _login(at, "betrachtung", "demo-betrachtung")
    assert not at.exception
    actor = at.session_state[ACTOR_KEY]
    assert actor == Actor("betrachtung", VIEWER, raw_data=False)
    assert at.title[0].value.startswith("Übersicht")  # the page, in the same run as the login
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "betrachtung" in sidebar and "Betrachtung" in sidebar


def test_viewer_navigation_has_no_admin_page(run_page):
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        run_page("views/audit.py", actor=Actor("bv", VIEWER))
    at = run_page("views/uebersicht.py", actor=Actor("bv", VIEWER))
    assert not at.exception and at.title[0].value.startswith("Übersicht")


def test_page_guard_blocks_a_directly_run_staff_page(app_db):
    """A page script run without app.py's navigation stops in page_header: no login, or no declared page."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from quartier.access import ADMIN

    page = Path(__file__).resolve().parents[2] / "views" / "audit.py"
    at = AppTest.from_file(str(page), default_timeout=60)
    at.run()
    assert any("anmelden" in e.value for e in at.error) and not at.dataframe
    for actor in (Actor("fachplanung", EDITOR), Actor("chefin", ADMIN)):
        at = AppTest.from_file(str(page), default_timeout=60)
        at.session_state[ACTOR_KEY] = actor
        at.run()
        assert any("Navigation" in e.value for e in at.error) and not at.dataframe


def _guarded_page(spec_path: str):
    """A script that declares a registered page, as app.py does, and then runs the page guard."""
    from quartier.ui.guard import page_header
    from quartier.ui.pages import PAGES
    from quartier.ui.session import set_current_page

    set_current_page(next(p for p in PAGES if p.url_path == spec_path))
    try:
        page_header("Geschützt")
        import streamlit as st

        st.markdown("Seiteninhalt")
    finally:
        set_current_page(None)


def test_page_guard_checks_the_role_of_the_declared_page(app_db):
    """The second line of defence: the page app.py runs needs a higher role than the session has."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_guarded_page, args=("audit",), default_timeout=60)
    at.session_state[ACTOR_KEY] = Actor("fachplanung", EDITOR)
    at.run()
    assert any("Administration" in e.value for e in at.error)
    assert not at.title and "Seiteninhalt" not in [m.value for m in at.markdown]
    at = AppTest.from_function(_guarded_page, args=("daten-import",), default_timeout=60)
    at.session_state[ACTOR_KEY] = Actor("fachplanung", EDITOR)
    at.run()
    assert not at.error and at.title[0].value == "Geschützt"
    at = AppTest.from_function(_guarded_page, args=("uebersicht",), default_timeout=60)
    at.run()  # nobody logged in
    assert any("anmelden" in e.value for e in at.error) and not at.title


def test_admin_sees_audit_log_with_exports(run_page):
    at = run_page("views/audit.py")
    assert not at.exception
    assert at.title[0].value == "Audit-Log"
    assert at.dataframe and len(at.dataframe[0].value) > 0
    assert len(at.get("download_button")) == 2
    # filter by action narrows the table
    at.multiselect(key="audit_aktion").set_value(["demo_aufbauen"]).run()
    assert set(at.dataframe[0].value["Aktion"]) == {"demo_aufbauen"}


def test_staff_pages_are_registered_with_roles():
    roles = {p.url_path: p.min_role for p in PAGES}
    assert roles["audit"] == "Administration"
    for path in ("daten-import", "lieferungen"):
        if path in roles:
            assert roles[path] in ("Bearbeitung", "Administration")


def test_admin_creates_user_and_changes_settings_in_the_app(run_page, app_db):
    from quartier import db
    from quartier.admin import auth

    at = run_page("views/benutzer.py")
    assert not at.exception and at.title[0].value == "Benutzer und Sicherheit"
    at.text_input(key="bn_name").input("neu.person")
    at.selectbox(key="bn_rolle").select("Bearbeitung")
    at.text_input(key="bn_pw1").input("ein-gutes-passwort")
    at.text_input(key="bn_pw2").input("ein-gutes-passwort")
    at.button(key="FormSubmitter:benutzer_neu-Konto anlegen").click().run()
    assert not at.exception
    assert any("angelegt" in s.value for s in at.success), [e.value for e in at.error]
    at.number_input(key="sich_min_fallzahl").set_value(5)
    at.button(key="FormSubmitter:sicherheit-Einstellungen speichern").click().run()
    assert any("gespeichert" in s.value for s in at.success)
    c = db.connect(app_db)
    try:
        assert auth.authenticate(c, "neu.person", "ein-gutes-passwort").role == "Bearbeitung"
        assert auth.security_settings(c)["min_fallzahl"] == 5
        actions = [r[0] for r in c.cursor().execute("SELECT aktion FROM audit_log ORDER BY id DESC LIMIT 3").fetchall()]
        assert "benutzer_anlegen" in actions and "einstellungen_aendern" in actions
    finally:
        c.close()


def test_logins_do_not_invalidate_data_caches(app_db):
    """Failed or successful logins are audited but must not change the cache key of the data."""
    from quartier import db
    from quartier.admin import auth
    from quartier.ui.common import data_stamp, get_con

    con = get_con()
    before = data_stamp()
    with pytest.raises(auth.AuthError):
        auth.authenticate(con, "admin", "falsch-falsch-falsch")
    auth.authenticate(con, "admin", "demo-administration")
    assert data_stamp() == before
    with db.transaction(con) as cur:
        db.audit(cur, "test", "einstellungen_aendern", None, None)
    assert data_stamp() > before


OIDC_SECRETS = {
    "auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "q",
             "client_secret": "s", "server_metadata_url": "https://login.stadt.example/.well-known/openid-configuration"},
    "quartier_roles": {"claim": "groups", "map": {"jhp-planung": "Bearbeitung"}, "users": {"chefin@stadt.example": "Administration"}},
}


def _oidc_app(user: dict):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    for k, v in OIDC_SECRETS.items():
        at.secrets[k] = v
    at.user = user
    at.run()
    return at


def test_oidc_login_button_and_role_mapping(app_db):
    at = _oidc_app({"is_logged_in": False})
    assert not at.exception
    assert not at.text_input and [b.label for b in at.button] == ["Mit dem städtischen Konto anmelden"]
    at = _oidc_app({"is_logged_in": True, "email": "p.planer@stadt.example", "groups": ["jhp-planung"]})
    assert not at.exception
    assert at.session_state[ACTOR_KEY] == Actor("p.planer@stadt.example", EDITOR)
    with pytest.raises(ValueError):
        at.switch_page("views/audit.py")
    at = _oidc_app({"is_logged_in": True, "email": "chefin@stadt.example", "groups": []})
    assert at.session_state[ACTOR_KEY].role == "Administration"


def test_oidc_user_without_role_gets_no_access(app_db):
    at = _oidc_app({"is_logged_in": True, "email": "fremd@example.org", "groups": ["andere"]})
    assert not at.exception
    assert ACTOR_KEY not in at.session_state
    assert any("keine Rolle" in e.value for e in at.error)
    assert not at.metric


def test_deactivation_and_role_change_end_running_sessions(run_page):
    from quartier.admin import auth
    from quartier.ui.common import get_con

    at = run_page("views/uebersicht.py", actor=None)
    _login(at, "bearbeitung", "demo-bearbeitung")
    assert at.session_state[ACTOR_KEY].role == EDITOR
    root = Actor("root", "Administration")
    auth.set_role(get_con(), root, "bearbeitung", "Betrachtung")
    at.run()
    # a role change ends the account's sessions: back to the login, told why; the next login has the new role
    assert ACTOR_KEY not in at.session_state and at.title[0].value == "Anmeldung"
    assert any("Rolle" in w.value for w in at.warning)
    _login(at, "bearbeitung", "demo-bearbeitung")
    assert at.session_state[ACTOR_KEY].role == VIEWER
    auth.set_disabled(get_con(), root, "bearbeitung")
    at.run()
    assert ACTOR_KEY not in at.session_state
    # back on the login page, told why (no page content, no figures)
    assert not at.metric and at.title[0].value == "Anmeldung"
    assert any("deaktiviert" in w.value for w in at.warning)


def test_old_demo_database_without_accounts_gets_the_demo_accounts(run_page, app_db):
    import duckdb

    c = duckdb.connect(str(app_db))
    c.execute("DELETE FROM benutzer")
    c.close()
    at = run_page("views/uebersicht.py", actor=None)
    _login(at, "admin", "demo-administration")
    assert at.session_state[ACTOR_KEY].role == "Administration"


def test_no_accounts_are_created_outside_demo(run_page, app_db):
    import duckdb

    c = duckdb.connect(str(app_db))
    c.execute("DELETE FROM benutzer")
    c.execute("UPDATE einstellung SET wert = '0' WHERE schluessel = 'demo'")
    c.close()
    at = run_page("views/uebersicht.py", actor=None)
    _login(at, "admin", "demo-administration")
    assert ACTOR_KEY not in at.session_state
    c = duckdb.connect(str(app_db))
    try:
        assert c.execute("SELECT count(*) FROM benutzer").fetchone()[0] == 0
    finally:
        c.close()

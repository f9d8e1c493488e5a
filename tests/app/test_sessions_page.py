"""Sessions in AppTest: a login opens a session and hands its ticket to the page; "Benutzer und Sicherheit" lists
open sessions and ends them (audited); an ended session ends the running Streamlit session at its next run."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from quartier import db
from quartier.access import ADMIN, Actor
from quartier.admin import sessions
from quartier.ui.session import ACTOR_KEY, LOGIN_KEY
from tests.app.conftest import APP


def _login(app_db, user: str, password: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.text_input[0].input(user)
    at.text_input[1].input(password)
    at.button[0].click()
    at.run()
    assert not at.exception
    return at


def _handover_scripts(at) -> list[str]:
    return [e.proto.body for e in at.get("html") if "/_quartier/sitzung" in e.proto.body]


def test_login_opens_a_session_and_hands_over_the_ticket_once(app_db):
    at = _login(app_db, "bearbeitung", "demo-bearbeitung")
    login = at.session_state[LOGIN_KEY]
    assert login["art"] == "lokal" and len(login["sitzung"]) == 64
    scripts = _handover_scripts(at)
    assert len(scripts) == 1 and "fetch(" in scripts[0] and "credentials: 'same-origin'" in scripts[0]
    at.run()
    assert _handover_scripts(at) == []          # the ticket is handed over once
    con = db.connect(app_db)
    try:
        assert sessions.check(con, login["sitzung"]) == "bearbeitung"
    finally:
        con.close()


def test_users_page_lists_and_ends_sessions(run_page, app_db):
    con = db.connect(app_db)
    try:
        _, s1 = sessions.create(con, "bearbeitung", user_agent="Mozilla/5.0 (Windows NT 10.0) Chrome/131.0 Safari/537.36")
        _, s2 = sessions.create(con, "betrachtung", user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0")
    finally:
        con.close()
    at = run_page("views/benutzer.py", actor=Actor("admin", ADMIN))
    assert not at.exception
    assert any(s.value == "Angemeldete Sitzungen" for s in at.subheader)
    table = next(df.value for df in at.dataframe if "Kennung" in df.value.columns)
    assert set(table["Benutzer"]) == {"bearbeitung", "betrachtung"}
    assert set(table["Kennung"]) == {s1.key[:8], s2.key[:8]}
    assert "Chrome unter Windows" in set(table["Browser"])
    assert "8 Stunden" in " ".join(m.value for m in at.markdown)

    at.selectbox(key="sz_wahl").select(s1.key)
    at.button(key="FormSubmitter:sitzung_beenden-Sitzung beenden").click().run()
    assert not at.exception
    assert any("1 Sitzung von „bearbeitung“ beendet" in s.value for s in at.success)
    table = next(df.value for df in at.dataframe if "Kennung" in df.value.columns)
    assert list(table["Benutzer"]) == ["betrachtung"]          # the list already shows the result
    con = db.connect(app_db)
    try:
        assert sessions.check(con, s1.key) is None and sessions.check(con, s2.key) == "betrachtung"
        who, obj, details = con.cursor().execute(
            "SELECT benutzer, objekt, details FROM audit_log WHERE aktion = 'sitzung_beenden' ORDER BY id DESC").fetchone()
        assert (who, obj) == ("admin", "bearbeitung") and json.loads(details)["sitzungen"] == [s1.key[:8]]
    finally:
        con.close()


def test_an_ended_session_ends_the_running_tab(app_db):
    at = _login(app_db, "betrachtung", "demo-betrachtung")
    key = at.session_state[LOGIN_KEY]["sitzung"]
    con = db.connect(app_db)
    try:
        assert sessions.end_sessions(con, "betrachtung", actor=Actor("admin", ADMIN)) == 1
    finally:
        con.close()
    at.run()
    assert not at.exception
    assert at.title[0].value == "Anmeldung"
    assert any("Sitzung ist abgelaufen oder wurde beendet" in w.value for w in at.warning)
    assert ACTOR_KEY not in at.session_state and key


def test_logout_and_end_all_sessions_in_the_sidebar(app_db):
    at = _login(app_db, "bearbeitung", "demo-bearbeitung")
    first = at.session_state[LOGIN_KEY]["sitzung"]
    other = _login(app_db, "bearbeitung", "demo-bearbeitung")
    second = other.session_state[LOGIN_KEY]["sitzung"]
    at.button(key="quartier_alle_sitzungen").click().run()
    assert at.title[0].value == "Anmeldung"
    assert any("Alle Ihre Sitzungen wurden beendet." in w.value for w in at.warning)
    # the browser is told to delete its cookie
    assert any("/_quartier/abmelden" in e.proto.body for e in at.get("html"))
    other.run()
    assert other.title[0].value == "Anmeldung"
    con = db.connect(app_db)
    try:
        assert sessions.check(con, first) is None and sessions.check(con, second) is None
        actions = [r[0] for r in con.cursor().execute(
            "SELECT aktion FROM audit_log WHERE aktion IN ('abmeldung', 'sitzung_beenden') ORDER BY id").fetchall()]
        assert actions == ["sitzung_beenden"]
    finally:
        con.close()
    # an ordinary logout ends only this session
    at = _login(app_db, "bearbeitung", "demo-bearbeitung")
    key = at.session_state[LOGIN_KEY]["sitzung"]
    at.button(key="quartier_abmelden").click().run()
    assert at.title[0].value == "Anmeldung"
    con = db.connect(app_db)
    try:
        assert sessions.check(con, key) is None
        assert con.cursor().execute("SELECT count(*) FROM audit_log WHERE aktion = 'abmeldung'").fetchone()[0] == 1
    finally:
        con.close()

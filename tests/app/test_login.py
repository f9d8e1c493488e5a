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
    at = run_page("pages/uebersicht.py", actor=None)
    assert not at.exception
    assert at.title[0].value == "Anmeldung"
    assert [t.label for t in at.text_input] == ["Benutzername", "Passwort"]
    assert at.text_input[1].proto.type == at.text_input[1].proto.PASSWORD  # masked input
    assert not at.metric  # no figures before the login
    assert "Beispieldaten" in " ".join(i.value for i in at.info)


def test_login_form_wrong_then_right_password(run_page):
    at = run_page("pages/uebersicht.py", actor=None)
    _login(at, "betrachtung", "falsch-falsch-falsch")
    assert any("falsch" in e.value for e in at.error)
    assert ACTOR_KEY not in at.session_state
    _login(at, "betrachtung", "demo-betrachtung")
    assert not at.exception
    actor = at.session_state[ACTOR_KEY]
    assert actor == Actor("betrachtung", VIEWER, raw_data=False)
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "betrachtung" in sidebar and "Betrachtung" in sidebar


def test_viewer_navigation_has_no_admin_page(run_page):
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        run_page("pages/audit.py", actor=Actor("bv", VIEWER))
    at = run_page("pages/uebersicht.py", actor=Actor("bv", VIEWER))
    assert not at.exception and at.title[0].value.startswith("Übersicht")


def test_page_guard_blocks_a_directly_run_staff_page(app_db):
    """Even when a page script runs without app.py (Streamlit's old multipage mode), it checks the role."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    page = Path(__file__).resolve().parents[2] / "pages" / "audit.py"
    at = AppTest.from_file(str(page), default_timeout=60)
    at.run()
    assert any("anmelden" in e.value for e in at.error) and not at.dataframe
    at = AppTest.from_file(str(page), default_timeout=60)
    at.session_state[ACTOR_KEY] = Actor("fachplanung", EDITOR)
    at.run()
    assert any("Administration" in e.value for e in at.error) and not at.dataframe


def test_admin_sees_audit_log_with_exports(run_page):
    at = run_page("pages/audit.py")
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

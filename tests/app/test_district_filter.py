"""Issue 16: the Stadtbezirk chosen on one page stays chosen on Sozialräume, Karte, Umsetzungsstand and
Mein Bezirk within one session (AppTest switches pages in one session)."""

from __future__ import annotations

from quartier import access, db
from quartier.ui.session import ACTOR_KEY

SESSION = {ACTOR_KEY: access.Actor("planerin", access.EDITOR, raw_data=True)}


def _two_districts(path) -> tuple[str, str]:
    con = db.connect(path)
    try:
        ids = [r[0] for r in con.execute("SELECT DISTINCT bezirk_id FROM sozialraum WHERE bezirk_id IS NOT NULL"
                                         " ORDER BY bezirk_id").fetchall()]
    finally:
        con.close()
    return ids[-1], ids[-2]


def _go(at, page: str):
    """Move to another page as the sidebar does: the browser drops the query parameters of the old page."""
    at.query_params.clear()
    return _ok(at.switch_page(page).run())


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_district_follows_the_user_across_pages(run_page, app_db):
    a, b = _two_districts(app_db)
    at = _ok(run_page("views/karte.py", session=SESSION))
    at.sidebar.selectbox(key="karte_bezirk").set_value(a).run()
    _go(at, "views/umsetzungsstand.py")
    assert at.selectbox(key="ust_bezirk").value == a
    _go(at, "views/mein_bezirk.py")
    assert at.selectbox(key="mb_bezirk").value == a
    _go(at, "views/sozialraeume.py")
    assert at.radio(key="sr_modus").value == "Stadtbezirk" and at.selectbox(key="sr_bezirk").value == a
    # changed on Sozialräume: the other pages follow
    at.selectbox(key="sr_bezirk").set_value(b).run()
    _go(at, "views/uebersicht.py")
    _go(at, "views/karte.py")
    assert at.sidebar.selectbox(key="karte_bezirk").value == b
    _go(at, "views/mein_bezirk.py")
    assert at.selectbox(key="mb_bezirk").value == b
    at.selectbox(key="mb_bezirk").set_value(a).run()
    _go(at, "views/umsetzungsstand.py")
    assert at.selectbox(key="ust_bezirk").value == a


def test_whole_city_is_kept_and_mein_bezirk_keeps_its_district(run_page, app_db):
    a, _ = _two_districts(app_db)
    at = _ok(run_page("views/mein_bezirk.py", session=SESSION))
    at.selectbox(key="mb_bezirk").set_value(a).run()
    _go(at, "views/umsetzungsstand.py")
    assert at.selectbox(key="ust_bezirk").value == a
    at.selectbox(key="ust_bezirk").set_value("").run()        # the whole city
    _go(at, "views/karte.py")
    assert at.sidebar.selectbox(key="karte_bezirk").value == "__stadt__"
    _go(at, "views/mein_bezirk.py")          # one district needed: the last one shown
    assert at.selectbox(key="mb_bezirk").value == a
    _go(at, "views/karte.py")
    assert at.sidebar.selectbox(key="karte_bezirk").value == "__stadt__"


def test_a_link_wins_over_the_session_choice(run_page, app_db):
    a, b = _two_districts(app_db)
    at = _ok(run_page("views/karte.py", session=SESSION))
    at.sidebar.selectbox(key="karte_bezirk").set_value(a).run()
    at.switch_page("views/umsetzungsstand.py")
    at.query_params["bezirk"] = b
    _ok(at.run())
    assert at.selectbox(key="ust_bezirk").value == b

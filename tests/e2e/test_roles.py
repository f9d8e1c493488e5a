"""Log in as each demo role in Chromium: the navigation shows exactly the pages the role may see; a viewer
who types a staff page's address gets no staff content; wrong passwords and logout work."""

import pytest

from quartier.access import ADMIN, EDITOR, VIEWER, Actor
from quartier.ui.pages import PAGES
from tests.e2e.conftest import assert_no_exception, axe_violations, login, open_page, wait_for_app

ROLES = {"betrachtung": VIEWER, "bearbeitung": EDITOR, "admin": ADMIN}


def nav_titles(page) -> set[str]:
    links = page.locator('[data-testid="stSidebarNav"] a')
    return {links.nth(i).inner_text().split("\n")[-1].strip() for i in range(links.count())}


@pytest.mark.parametrize("user", list(ROLES))
def test_each_role_sees_only_its_pages(server, page, user):
    login(page, server, user)
    assert_no_exception(page)
    actor = Actor(user, ROLES[user])
    expected = {p.title for p in PAGES if actor.has(p.min_role)}
    assert nav_titles(page) == expected
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert f"Angemeldet: {user}" in sidebar.replace("\n", " ") and ROLES[user] in sidebar
    if user != "admin":
        assert "Audit-Log" not in nav_titles(page)


def test_viewer_typing_a_staff_address_gets_no_staff_content(server, page):
    staff = [p for p in PAGES if p.min_role != VIEWER]
    assert staff
    for spec in staff:
        login(page, server, "betrachtung", path=spec.url_path)
        assert_no_exception(page)
        headings = [h.inner_text() for h in page.locator("h1").all()]
        assert spec.title not in headings and spec.title not in nav_titles(page)


def test_wrong_password_and_logout(server, page):
    login(page, server, "admin", password="falsches-passwort")
    assert page.get_by_text("Benutzername oder Passwort ist falsch.").first.is_visible()
    assert nav_titles(page) == set()
    login(page, server, "admin")
    assert "Audit-Log" in nav_titles(page)
    page.get_by_role("button", name="Abmelden").click()
    page.get_by_label("Benutzername").wait_for(timeout=30_000)
    wait_for_app(page)
    assert nav_titles(page) == set()


def test_login_page_is_accessible(server, page):
    open_page(page, server, "", user=None)
    assert page.get_by_label("Benutzername").is_visible()
    assert not axe_violations(page)

"""Login gate, login page, logout and role checks (Streamlit side of :mod:`quartier.auth`).

Local accounts (default) or OIDC via ``st.login`` when ``.streamlit/secrets.toml`` has an ``[auth]``
section; roles for OIDC users come from ``[quartier_roles]`` (see ``.streamlit/secrets.toml.example``).
The logged-in Actor lives in ``st.session_state`` (server side); for local accounts it is re-read
from the database on every run, so a deactivation or role change applies at once. A local login also opens
a server-side session (:mod:`quartier.admin.sessions`) whose signed cookie (:mod:`quartier.ui.login_cookie`)
lets a reload or a second tab resume it without the password; every run checks that it is still open.
"""

from __future__ import annotations

import os
import time

import streamlit as st

from quartier.access import ADMIN, EDITOR, VIEWER, Actor
from quartier.admin import auth, sessions
from quartier.ui import login_cookie
from quartier.ui.common import DEMO_NOTICE, city_name, get_con, is_demo, per_run
from quartier.ui.pages import PAGES
from quartier.ui.session import ACTOR_KEY, LOGIN_KEY
from quartier.ui.text import md

NAME_KEY, PASSWORD_KEY = "anmeldung_name", "anmeldung_passwort"
ERROR_KEY = "quartier_login_fehler"   # the message of a failed attempt, shown once below the form
FAIL_DELAY_S = 1.0                    # every failed attempt costs the caller a second
ROLE_LABEL = {VIEWER: "Betrachtung", EDITOR: "Bearbeitung", ADMIN: "Administration"}
RESUMED_KEY = "quartier_sitzung_fortgesetzt"  # this run resumed a session from the cookie (see gate)
SESSION_ENDED = "Ihre Sitzung ist abgelaufen oder wurde beendet. Bitte melden Sie sich erneut an."
ENDED_BECAUSE = {
    "rolle": "Ihre Rolle oder Ihr Recht auf Rohwerte wurde geändert. Bitte melden Sie sich erneut an.",
    "passwort": "Ihr Passwort wurde neu gesetzt. Bitte melden Sie sich mit dem neuen Passwort an.",
    "inaktiv": "Sie wurden nach längerer Inaktivität abgemeldet. Bitte melden Sie sich erneut an.",
}


def _secrets() -> dict:
    try:
        return {k: st.secrets[k] for k in st.secrets}
    except Exception:  # noqa: BLE001 - no secrets.toml, or unreadable: local accounts
        return {}


def oidc_configured() -> bool:
    return "auth" in _secrets()


def _plain(value):
    """A secrets section (Streamlit's read-only mapping) as plain dicts."""
    return {k: _plain(value[k]) for k in value} if hasattr(value, "keys") else value


def oidc_problems() -> list[str]:
    """What keeps OIDC from starting (German; empty = fine or no [auth] section)."""
    secrets = _secrets()
    return auth.oidc_config_problems(_plain(secrets["auth"])) if "auth" in secrets else []


def oidc_usable() -> bool:
    """[auth] is configured and has no placeholder or weak secret: only then is st.user trusted."""
    return oidc_configured() and not oidc_problems()


def _oidc_provider() -> str | None:
    cfg = _secrets().get("quartier_roles") or {}
    return cfg.get("provider") or None


def _client_id() -> str:
    """Where a login attempt comes from, for the per-client throttle: the browser's address when the server
    sees it, otherwise this browser session (a reload then starts a new one, but the account lockout stays)."""
    try:
        ip = st.context.ip_address
    except Exception:  # noqa: BLE001 - no request context (tests)
        ip = None
    if ip:
        return f"ip:{ip}"
    return "sitzung:" + str(st.session_state.setdefault("quartier_client", os.urandom(8).hex()))


def logged_in() -> Actor | None:
    """The Actor of this session (refreshed from the database for local accounts), else None."""
    actor = st.session_state.get(ACTOR_KEY)
    login = st.session_state.get(LOGIN_KEY)
    if isinstance(actor, Actor) and isinstance(login, dict) and login.get("art") == "lokal":
        # once per run (app.py and the page guard both ask): changes apply from the next run
        fresh = per_run(("konto", login["name"]), lambda: auth.lookup(get_con(), login["name"]))
        if fresh is None:
            logout(message="Ihr Konto wurde deaktiviert oder gelöscht. Bitte an die Administration wenden.")
            return None
        key = login.get("sitzung")  # a session ended elsewhere (logout in another tab, new role …) ends here too
        if key and per_run(("sitzung", key), lambda: sessions.check(get_con(), key)) is None:
            logout(message=ENDED_BECAUSE.get(sessions.end_reason(get_con(), key) or "", SESSION_ENDED))
            return None
        if fresh != actor:
            st.session_state[ACTOR_KEY] = fresh
        return fresh
    if isinstance(actor, Actor) and not (isinstance(login, dict) and login.get("art") == "oidc"):
        return actor  # set by a test or another trusted caller
    if actor is None and not oidc_configured():
        resumed = _resume_from_cookie()
        if resumed is not None:
            return resumed
    if oidc_usable() and getattr(st.user, "is_logged_in", False):  # a placeholder secret means a forgeable cookie
        claims = st.user.to_dict()
        mapped = auth.oidc_actor(claims, dict(_secrets().get("quartier_roles") or {}), get_con())
        if mapped is None:  # no role (any more) or deactivated: re-checked on every run
            for k in (ACTOR_KEY, LOGIN_KEY):
                st.session_state.pop(k, None)
            return None
        st.session_state[ACTOR_KEY] = mapped
        st.session_state[LOGIN_KEY] = {"art": "oidc", "name": mapped.name}
        return mapped
    if isinstance(login, dict) and login.get("art") == "oidc":  # logged out at the identity provider
        for k in (ACTOR_KEY, LOGIN_KEY):
            st.session_state.pop(k, None)
    return None


def _resume_from_cookie() -> Actor | None:
    """A reload or another tab: the session cookie the browser sent, if its session is still open."""
    value = login_cookie.cookie_value()
    if not value or st.session_state.get("quartier_cookie_geprueft") == value:
        return None
    st.session_state["quartier_cookie_geprueft"] = value  # tried once per cookie and tab
    con = get_con()
    session = sessions.resume(con, value)
    actor = auth.lookup(con, session.account) if session is not None else None
    if session is None or actor is None:
        st.session_state[login_cookie.FORGET_KEY] = True
        return None
    st.session_state[ACTOR_KEY] = actor
    st.session_state[LOGIN_KEY] = {"art": "lokal", "name": actor.name, "sitzung": session.key}
    st.session_state[RESUMED_KEY] = True
    return actor


def logout(message: str | None = None) -> None:
    login = st.session_state.get(LOGIN_KEY) or {}
    was_oidc = login.get("art") == "oidc"
    if login.get("sitzung"):
        sessions.logout(get_con(), login["sitzung"])  # ends it in every tab of this browser
        st.session_state[login_cookie.FORGET_KEY] = True
    for k in (ACTOR_KEY, LOGIN_KEY):
        st.session_state.pop(k, None)
    if message:
        st.session_state["quartier_login_hinweis"] = message
    if was_oidc:
        st.logout()


def _submit_login() -> None:
    """Form callback: check the password before the script runs.

    A successful login therefore renders the requested page in the same script run (no second run
    through the login page and ``st.rerun``): with 20 people logging in at once that is a third less
    work for the server. The password does not stay in the session state.
    """
    name = str(st.session_state.get(NAME_KEY) or "")
    password = str(st.session_state.get(PASSWORD_KEY) or "")
    st.session_state[PASSWORD_KEY] = ""
    try:
        actor = auth.authenticate(get_con(), name, password, client=_client_id())
    except auth.AuthError as exc:
        time.sleep(FAIL_DELAY_S)
        st.session_state[ERROR_KEY] = str(exc)
    else:
        value, session = sessions.create(get_con(), actor.name, user_agent=login_cookie.user_agent())
        st.session_state[ACTOR_KEY] = actor
        st.session_state[LOGIN_KEY] = {"art": "lokal", "name": actor.name, "sitzung": session.key}
        st.session_state[login_cookie.TICKET_KEY] = sessions.TICKETS.issue(value)


def login_page() -> None:
    """The only page before login: a form for local accounts or the OIDC button."""
    st.title("Anmeldung")  # not guard.page_header: that one requires a login
    login_cookie.forget_pending()
    if is_demo():
        st.info(DEMO_NOTICE.format(stadt=city_name()), icon=":material/info:")
    st.markdown("Quartier zeigt kleinräumige Sozialdaten: bitte melden Sie sich an.")
    hint = st.session_state.pop("quartier_login_hinweis", None)
    if hint:
        st.warning(hint)
    if oidc_configured():
        problems = oidc_problems()
        if problems:
            st.error("Die Anmeldung über den Identitätsanbieter ist nicht gestartet: der Abschnitt [auth] in "
                     ".streamlit/secrets.toml ist unvollständig. Bitte korrigieren und Quartier neu starten:\n\n"
                     + "\n".join(f"- {p}" for p in problems), icon=":material/lock:")
            return
        if getattr(st.user, "is_logged_in", False):
            st.error(f"Das Konto {md(st.user.get('email') or st.user.get('name') or '')} hat in Quartier keine Rolle. "
                     "Bitte bei der Administration eine Rolle beantragen.")
            st.button("Abmelden", on_click=st.logout)
            return
        provider = _oidc_provider()
        if st.button("Mit dem städtischen Konto anmelden", type="primary", icon=":material/login:"):
            st.login(provider) if provider else st.login()
        return
    with st.form("anmeldung", enter_to_submit=True):
        st.text_input("Benutzername", autocomplete="username", max_chars=100, key=NAME_KEY)
        st.text_input("Passwort", type="password", autocomplete="current-password", max_chars=200, key=PASSWORD_KEY)
        st.form_submit_button("Anmelden", type="primary", on_click=_submit_login)
    error = st.session_state.pop(ERROR_KEY, None)
    if error:
        st.error(error, icon=":material/lock:")
    if is_demo():
        if not auth.has_accounts(get_con()):  # a demo database built before accounts existed
            auth.ensure_demo_accounts(get_con())
        st.info("**Demo-Zugänge** (nur in der Demo-Datenbank): "
                + " · ".join(f"`{n}` / `{p}` ({r})" for n, r, p in auth.DEMO_ACCOUNTS))


def _address_pages() -> list:
    """The login form at every known page address."""
    pages = [st.Page(login_page, title="Anmeldung", icon=":material/login:", url_path="anmeldung", default=True)]
    return pages + [st.Page(login_page, title="Anmeldung", url_path=spec.url_path, visibility="hidden")
                    for spec in PAGES if spec.url_path != "anmeldung"]


def gate() -> Actor:
    """Return the logged-in Actor; otherwise show the login page and stop the script.

    Before the login every known page address shows the login form (no "page not found"); after the
    login the same address is the real page, so the user lands where they wanted to go.
    """
    actor = logged_in()
    if actor is not None:
        if st.session_state.pop(RESUMED_KEY, False):
            # The first run of a tab that resumed a session from its cookie: like the login, first register every
            # address as a page (Streamlit finds a typed address only among the non-default pages, so the real
            # navigation would answer "/uebersicht" with "Page not found"), then run again on the page found.
            st.navigation(_address_pages(), position="hidden")
            st.rerun()
        return actor
    nav = st.navigation(_address_pages(), position="hidden")
    nav.run()
    st.stop()
    raise RuntimeError("unreachable")  # pragma: no cover


def sidebar_account(actor: Actor) -> None:
    """Who is logged in, with which role, and the logout button."""
    with st.sidebar:
        st.markdown(f"Angemeldet: **{md(actor.name)}**  \nRolle: {ROLE_LABEL.get(actor.role, actor.role)}"
                    + (" · Rohwerte" if actor.role == VIEWER and actor.raw_data else ""))
        login_cookie.hand_over_pending()
        if st.button("Abmelden", icon=":material/logout:", key="quartier_abmelden"):
            logout()
            st.rerun()
        if (st.session_state.get(LOGIN_KEY) or {}).get("sitzung") and st.button(
                "Alle Sitzungen beenden", icon=":material/devices:", key="quartier_alle_sitzungen", type="tertiary",
                help="Meldet dieses Konto in allen Browsern und auf allen Geräten ab."):
            sessions.end_sessions(get_con(), actor.name, actor=actor)
            logout(message="Alle Ihre Sitzungen wurden beendet.")
            st.rerun()


def allowed(actor: Actor | None, min_role: str) -> bool:
    return actor is not None and actor.has(min_role)


def require_role(min_role: str, action: str = "diese Seite") -> Actor:
    """Page-level check: show a German error and stop unless the session's Actor has ``min_role``."""
    actor = st.session_state.get(ACTOR_KEY)
    if not allowed(actor, min_role):
        st.error(f"Für {action} ist die Rolle „{ROLE_LABEL.get(min_role, min_role)}“ nötig. "
                 "Bitte mit einem berechtigten Konto anmelden.", icon=":material/block:")
        st.stop()
    return actor

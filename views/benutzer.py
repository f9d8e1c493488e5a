"""Benutzer und Sicherheit (Administration): local accounts, open sessions, security settings, backups."""

import pandas as pd
import streamlit as st

from quartier.access import ADMIN, ROLES, PermissionDenied
from quartier.admin import auth, backup, sessions
from quartier.ui.auth import require_role
from quartier.ui.common import get_con
from quartier.ui.guard import page_header
from quartier.ui.session import LOGIN_KEY

page_header(
    "Benutzer und Sicherheit",
    "Lokale Konten mit Rollen (Betrachtung, Bearbeitung, Administration), Schutz kleiner Fallzahlen, Anmeldesperre und "
    "Sicherungen. Alle Änderungen stehen im Audit-Log. Passwörter werden nur als Argon2-Hash gespeichert.",
)
actor = require_role(ADMIN, "die Benutzerverwaltung")
con = get_con()


def run(action, success: str) -> None:
    try:
        action()
    except (auth.AuthError, PermissionDenied, backup.BackupError) as exc:
        st.error(str(exc), icon=":material/error:")
    else:
        st.success(success, icon=":material/check_circle:")


st.subheader("Konten")
users = auth.users(con)
if users.empty:
    st.write("Noch keine lokalen Konten.")
else:
    shown = pd.DataFrame({
        "Benutzer": users["name"], "Rolle": users["rolle"],
        "Rohwerte": users["rohdaten"].map({True: "ja", False: "nein"}),
        "Status": users["deaktiviert"].map({True: "deaktiviert", False: "aktiv"}),
        "Lokales Passwort": users["lokales_passwort"].map({True: "ja", False: "nein (nur OIDC)"}),
        "Gesperrt bis": users["gesperrt_bis"].dt.strftime("%d.%m.%Y %H:%M").fillna(""),
        "Letzte Anmeldung": users["letzte_anmeldung"].dt.strftime("%d.%m.%Y %H:%M").fillna("–"),
    })
    st.dataframe(shown, hide_index=True, width="stretch")

c1, c2 = st.columns(2)
with c1, st.form("benutzer_neu", clear_on_submit=True):
    st.markdown("**Konto anlegen**")
    name = st.text_input("Benutzername", max_chars=100, key="bn_name")
    role = st.selectbox("Rolle", ROLES, key="bn_rolle")
    raw = st.checkbox("darf Werte unter der Mindestfallzahl sehen", key="bn_roh")
    pw1 = st.text_input("Passwort (mindestens 10 Zeichen)", type="password", autocomplete="new-password", key="bn_pw1")
    pw2 = st.text_input("Passwort wiederholen", type="password", autocomplete="new-password", key="bn_pw2")
    if st.form_submit_button("Konto anlegen", type="primary"):
        if pw1 != pw2:
            st.error("Die Passwörter stimmen nicht überein.")
        else:
            run(lambda: auth.add_user(con, actor, name, role, pw1, raw_data=raw), f"Konto „{name}“ angelegt.")

with c2:
    names = list(users["name"]) if not users.empty else []
    if names:
        with st.form("benutzer_aendern"):
            st.markdown("**Konto ändern**")
            who = st.selectbox("Konto", names, key="ba_name")
            row = users.set_index("name").loc[who]
            new_role = st.selectbox("Neue Rolle", ROLES, index=ROLES.index(row["rolle"]), key="ba_rolle")
            new_raw = st.checkbox("darf Werte unter der Mindestfallzahl sehen", value=bool(row["rohdaten"]), key="ba_roh")
            b1, b2 = st.columns(2)
            if b1.form_submit_button("Rolle speichern"):
                run(lambda: auth.set_role(con, actor, who, new_role, raw_data=new_raw), f"Rolle von „{who}“ gespeichert.")
            disable = not bool(row["deaktiviert"])
            if b2.form_submit_button("Deaktivieren" if disable else "Wieder aktivieren"):
                run(lambda: auth.set_disabled(con, actor, who, disabled=disable),
                    f"„{who}“ {'deaktiviert' if disable else 'aktiviert'}.")
        with st.form("benutzer_passwort", clear_on_submit=True):
            st.markdown("**Passwort zurücksetzen** (hebt auch eine Sperre auf)")
            who_pw = st.selectbox("Konto", names, key="bp_name")
            npw1 = st.text_input("Neues Passwort", type="password", autocomplete="new-password", key="bp_pw1")
            npw2 = st.text_input("Neues Passwort wiederholen", type="password", autocomplete="new-password", key="bp_pw2")
            if st.form_submit_button("Passwort setzen"):
                if npw1 != npw2:
                    st.error("Die Passwörter stimmen nicht überein.")
                else:
                    run(lambda: auth.reset_password(con, actor, who_pw, npw1), f"Passwort von „{who_pw}“ neu gesetzt.")

SESSION_MSG = "benutzer_sitzung_meldung"


def duration(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    parts = ([f"{h} Stunde{'n' if h != 1 else ''}"] if h else []) + ([f"{m} Minute{'n' if m != 1 else ''}"] if m else [])
    return " ".join(parts)


def end_session(all_of_account: bool) -> None:
    """Form callback (before the script run, so the list below already shows the result)."""
    key = st.session_state.get("sz_wahl")
    row = open_sessions.set_index("schluessel").loc[key] if key in set(open_sessions["schluessel"]) else None
    if row is None:
        st.session_state[SESSION_MSG] = ("error", "Diese Sitzung ist schon beendet.")
        return
    try:
        n = sessions.end_sessions(con, row["benutzer"], actor=actor, key=None if all_of_account else key)
    except PermissionDenied as exc:
        st.session_state[SESSION_MSG] = ("error", str(exc))
    else:
        st.session_state[SESSION_MSG] = ("success", f"{n} Sitzung{'en' if n != 1 else ''} von „{row['benutzer']}“ beendet.")


st.subheader("Angemeldete Sitzungen")
st.markdown(
    "Nach der Anmeldung bleibt ein Browser angemeldet (signiertes Sitzungs-Cookie), bis sich die Person abmeldet oder "
    f"{duration(sessions.idle_minutes(con))} lang nichts tut. Eine beendete Sitzung "
    "verlangt beim nächsten Klick wieder das Passwort. Ein neues Passwort, eine neue Rolle oder das Deaktivieren beendet "
    "alle Sitzungen des Kontos. Zeiten in UTC."
)
open_sessions = sessions.open_sessions(con, actor=actor)
own_key = (st.session_state.get(LOGIN_KEY) or {}).get("sitzung")
message = st.session_state.pop(SESSION_MSG, None)
if message:
    (st.success if message[0] == "success" else st.error)(message[1])
if open_sessions.empty:
    st.write("Keine offenen Sitzungen.")
else:
    st.dataframe(pd.DataFrame({
        "Benutzer": open_sessions["benutzer"],
        "Angemeldet seit": open_sessions["angelegt_am"].dt.strftime("%d.%m.%Y %H:%M"),
        "Zuletzt aktiv": open_sessions["zuletzt_aktiv"].dt.strftime("%d.%m.%Y %H:%M"),
        "Browser": open_sessions["browser"],
        "Kennung": open_sessions["kennung"],
        "Diese Sitzung": open_sessions["schluessel"].map(lambda k: "ja" if k == own_key else ""),
    }), hide_index=True, width="stretch")
    labels = {r.schluessel: f"{r.benutzer} · {r.browser} · aktiv {r.zuletzt_aktiv:%d.%m.%Y %H:%M} · Kennung {r.kennung}"
              for r in open_sessions.itertuples()}
    with st.form("sitzung_beenden"):
        st.selectbox("Sitzung", list(labels), format_func=labels.get, key="sz_wahl")
        b1, b2 = st.columns(2)
        b1.form_submit_button("Sitzung beenden", on_click=end_session, args=(False,))
        b2.form_submit_button("Alle Sitzungen dieses Kontos beenden", on_click=end_session, args=(True,))

st.subheader("Sicherheitseinstellungen")
current = auth.security_settings(con)
with st.form("sicherheit"):
    values = {}
    cols = st.columns(2)
    for i, (key, (label, lo, hi, _default)) in enumerate(auth.SECURITY_SETTINGS.items()):
        values[key] = cols[i % 2].number_input(label, min_value=lo, max_value=hi, value=current[key], step=1, key=f"sich_{key}")
    if st.form_submit_button("Einstellungen speichern"):
        run(lambda: auth.save_security_settings(con, actor, values), "Einstellungen gespeichert.")

st.subheader("Sicherungen")
st.markdown(
    "Vor jedem Import und jedem Zurückziehen einer Lieferung wird die Datenbank automatisch gesichert. "
    "Zurückspielen geht nur bei beendeter App: `python -m quartier restore DATEI` (prüft die Datei vorher)."
)
if st.button("Sicherung jetzt anlegen", icon=":material/backup:"):
    run(lambda: backup.manual(con, actor), "Sicherung angelegt.")
files = backup.list_backups(con)
if files:
    st.dataframe(pd.DataFrame({
        "Datei": [f.name for f in files],
        "Größe": [f"{f.stat().st_size / 1e6:.1f} MB".replace(".", ",") for f in files],
    }).head(50), hide_index=True, width="stretch")
else:
    st.write("Noch keine Sicherungen vorhanden.")

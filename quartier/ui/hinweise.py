"""Streamlit glue for the Hinweise (watch-list): the stored Hinweise of a Lieferung, or the Hinweise "seit der
letzten Sitzung" (a saved Berichtsstand or a chosen date), as one table section with links to the Steckbrief.
Used by the start page, Mein Bezirk and Lieferungen."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from quartier import format as fmt
from quartier.access import Actor
from quartier.alerts import hinweise as hw
from quartier.alerts import store
from quartier.ui.common import data_stamp, get_con, view_of
from quartier.values import indicators

TITLE = "Neu seit"   # every section title starts with it: "Neu seit Lieferung Nr. 4", "Neu seit der letzten Sitzung …"
EXPLAIN = ("Hinweise nach Wichtigkeit: Verschlechterungen zuerst, dann Klassenwechsel im Handlungsbedarf, "
           "überschrittene Schwellen, Trendbrüche (außerhalb der linearen Fortschreibung der letzten fünf Jahre "
           "± 2 Standardabweichungen der Reste) und auffällige Änderungen (Zwei-Stichproben-z-Test für Anteile, 5 %). "
           "Ein Klick auf den Sozialraum öffnet seinen Steckbrief.")
MODES = ("seit Lieferung", "seit der letzten Sitzung")


@st.cache_data(show_spinner=False, max_entries=32)
def _hinweise(stamp: int, looking: Actor, lieferung: int | None, bezirk: str | None) -> pd.DataFrame:
    """The Hinweise stored with the Lieferung (computed now for a delivery from before they were stored)."""
    return hw.frame(store.for_lieferung(get_con(), int(lieferung or 0), actor=looking, bezirk=bezirk))


@st.cache_data(show_spinner=False, max_entries=16)
def _seit(stamp: int, looking: Actor, seit: dt.datetime, bezirk: str | None) -> pd.DataFrame:
    return hw.frame(hw.hinweise(get_con(), actor=looking, seit=seit, bezirk=bezirk))


@st.cache_data(show_spinner=False)
def _meetings(stamp: int) -> pd.DataFrame:
    return store.meetings(get_con())


@st.cache_data(show_spinner=False)
def _deliveries_all(stamp: int) -> pd.DataFrame:
    return store.deliveries(get_con())


def _deliveries(stamp: int) -> pd.DataFrame:
    d = _deliveries_all(stamp)
    return d[d["status"] == "aktiv"]


def counts(actor: Actor, ids: pd.Series) -> list[str]:
    """Per Lieferung id: the number of stored Hinweise in the actor's view ("–": none stored)."""
    d = _deliveries_all(data_stamp()).set_index("id")
    col = "anzahl_roh" if actor.can_see_raw else "anzahl_geschuetzt"
    out = []
    for i in ids:
        n = d[col].get(int(i)) if int(i) in d.index else None
        out.append("–" if n is None or pd.isna(n) else fmt.integer(n))
    return out


def latest_lieferung() -> int | None:
    return hw.latest_lieferung(get_con())


def load(actor: Actor, lieferung: int | None, bezirk: str | None = None) -> pd.DataFrame:
    return _hinweise(data_stamp(), view_of(actor), lieferung, bezirk)


@st.cache_data(show_spinner=False)
def _decimals(stamp: int) -> dict[str, int]:
    """Indicator id -> its decimals (catalogue ``dezimalstellen``, else by unit)."""
    return indicators.decimals(indicators.catalogue(get_con()))


def table(frame: pd.DataFrame, decimals: dict[str, int] | None = None) -> pd.DataFrame:
    """German display table; the link column opens the Steckbrief (``/sozialraeume?sr=ID``); alt and neu with
    the indicator's ``decimals`` (id -> places; default: the catalogue's)."""
    dec = _decimals(data_stamp()) if decimals is None else decimals

    def val(v, iid):
        return v if isinstance(v, str) else fmt.number(v, dec.get(str(iid), 1))

    return pd.DataFrame({
        "Sozialraum": [f"/sozialraeume?sr={s}#{n}" for s, n in zip(frame["sozialraum_id"], frame["sozialraum"])],
        "Art": frame["art"], "Kennzahl": frame["indikator"], "Jahr": frame["jahr"].astype(str),
        "alt": [val(v, i) for v, i in zip(frame["alt"], frame["indikator"])],
        "neu": [val(v, i) for v, i in zip(frame["neu"], frame["indikator"])],
        "Bewertung": frame["schlechter"].map({True: "ungünstig", False: "günstig"}).fillna("ohne Richtung"),
        "Hinweis": frame["text"],
    })


def _show(frame: pd.DataFrame, what: str, limit: int, key: str | None = None) -> None:
    if frame.empty:
        st.write(f"{what}: keine Hinweise.")
        return
    st.caption(f"{len(frame)} Hinweise {what}" + (f", die ersten {limit} gezeigt" if len(frame) > limit else "")
               + ". " + EXPLAIN)
    st.dataframe(table(frame.head(limit)), hide_index=True, width="stretch", key=key, column_config={
        "Sozialraum": st.column_config.LinkColumn("Sozialraum", display_text=r"#(.*)$",
                                                  help="öffnet den Steckbrief des Sozialraums"),
        "Hinweis": st.column_config.TextColumn("Hinweis", width="large"),
    })


def section(actor: Actor, *, lieferung: int | None, bezirk: str | None = None, title: str | None = None,
            limit: int = 50) -> None:
    """The Hinweise one Lieferung raised (stored at its import); a withdrawn one says that they no longer count."""
    st.subheader(title or f"{TITLE} Lieferung Nr. {lieferung}")
    if lieferung is None:
        st.write("Noch keine Lieferung importiert.")
        return
    con = get_con()
    if store.status(con, lieferung) not in (None, "aktiv"):
        n = store.withdrawn_count(con, lieferung, actor=view_of(actor))
        st.write(f"Lieferung Nr. {lieferung} ist zurückgezogen: ihre {fmt.integer(n)} Hinweise gelten nicht mehr.")
        return
    _show(load(actor, lieferung, bezirk), f"aus Lieferung Nr. {lieferung}", limit)


def _meeting_choice(key: str) -> tuple[dt.datetime, str, str]:
    """A saved Berichtsstand (the newest first: "die letzte Sitzung") or a date; returns (since, title, words)."""
    meets = _meetings(data_stamp())
    options = [f"{r['name']} ({r['stichtag']:%d.%m.%Y})" for r in meets.to_dict("records")] + ["anderes Datum …"]
    pick = st.selectbox("Sitzung (gespeicherter Berichtsstand)", options, key=f"{key}_sitzung",
                        help="Die Berichtsstände sind die für Sitzungen eingefrorenen Stände (Seite Empfehlungen). "
                             "Gezeigt wird, was die seitdem importierten Lieferungen ergeben.")
    i = options.index(pick)
    if i < len(meets):
        r = meets.iloc[i]
        title = f"{TITLE} der letzten Sitzung" if i == 0 else f"{TITLE} „{r['name']}“"
        return (pd.Timestamp(r["erstellt_am"]).to_pydatetime(), title,
                f"seit „{r['name']}“ ({r['erstellt_am']:%d.%m.%Y})")
    day = st.date_input("seit dem", value=dt.date.today() - dt.timedelta(days=90), format="DD.MM.YYYY",
                        key=f"{key}_datum")
    return dt.datetime.combine(day, dt.time()), f"{TITLE} dem {day:%d.%m.%Y}", f"seit dem {day:%d.%m.%Y}"


def section_choice(actor: Actor, *, bezirk: str | None = None, key: str = "hw", limit: int = 50) -> None:
    """Start page and Mein Bezirk: "Neu seit der letzten Sitzung / seit Lieferung X" with the choice between
    both (default: the latest Lieferung, whose Hinweise are stored)."""
    deliveries = _deliveries(data_stamp())
    if deliveries.empty:
        st.subheader(f"{TITLE} der letzten Lieferung")
        st.write("Noch keine Lieferung importiert.")
        return
    head = st.empty()  # the title names the choice made below it
    left, right = st.columns([2, 3])
    with left:
        mode = st.radio("Hinweise", MODES, horizontal=True, key=f"{key}_modus", label_visibility="collapsed")
    if mode == MODES[0]:
        labels = {int(r["id"]): f"Nr. {r['id']} – {r['dateiname']} ({r['importiert_am']:%d.%m.%Y})"
                  for r in deliveries.to_dict("records")}
        with right:
            lid = st.selectbox("Lieferung", list(labels), format_func=labels.get, key=f"{key}_lieferung")
        head.subheader(f"{TITLE} Lieferung Nr. {lid}")
        _show(load(actor, int(lid), bezirk), f"aus Lieferung Nr. {lid}", limit, key=f"{key}_tab")
        return
    with right:
        since, title, words = _meeting_choice(key)
    head.subheader(title)
    frame = _seit(data_stamp(), view_of(actor), since, bezirk)
    _show(frame, f"{words} (aus den seitdem importierten Lieferungen)", limit, key=f"{key}_tab")

"""Streamlit glue for the Hinweise (watch-list): cached computation and one table section with links to the
Steckbrief. Used by the start page, Mein Bezirk and Lieferungen."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from quartier import format as fmt
from quartier.access import Actor
from quartier.alerts import hinweise as hw
from quartier.ui.common import data_stamp, get_con, view_of

TITLE = "Neu seit der letzten Lieferung"
EXPLAIN = ("Hinweise nach Wichtigkeit: Verschlechterungen zuerst, dann Klassenwechsel im Handlungsbedarf, "
           "überschrittene Schwellen, Trendbrüche (außerhalb der linearen Fortschreibung der letzten fünf Jahre "
           "± 2 Standardabweichungen der Reste) und auffällige Änderungen (Zwei-Stichproben-z-Test für Anteile, 5 %). "
           "Ein Klick auf den Sozialraum öffnet seinen Steckbrief.")


@st.cache_data(show_spinner=False, max_entries=32)
def _hinweise(stamp: int, looking: Actor, lieferung: int | None, bezirk: str | None) -> pd.DataFrame:
    con = get_con()
    return hw.frame(hw.hinweise(con, actor=looking, lieferung=lieferung, bezirk=bezirk))


def latest_lieferung() -> int | None:
    return hw.latest_lieferung(get_con())


def load(actor: Actor, lieferung: int | None, bezirk: str | None = None) -> pd.DataFrame:
    return _hinweise(data_stamp(), view_of(actor), lieferung, bezirk)


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """German display table; the link column opens the Steckbrief (``/sozialraeume?sr=ID``)."""
    def val(v):
        return v if isinstance(v, str) else fmt.number(v, 1)

    return pd.DataFrame({
        "Sozialraum": [f"/sozialraeume?sr={s}#{n}" for s, n in zip(frame["sozialraum_id"], frame["sozialraum"])],
        "Art": frame["art"], "Kennzahl": frame["indikator"], "Jahr": frame["jahr"].astype(str),
        "alt": frame["alt"].map(val), "neu": frame["neu"].map(val),
        "Bewertung": frame["schlechter"].map({True: "ungünstig", False: "günstig"}).fillna("ohne Richtung"),
        "Hinweis": frame["text"],
    })


def section(actor: Actor, *, lieferung: int | None, bezirk: str | None = None, title: str = TITLE,
            limit: int = 50) -> None:
    st.subheader(title)
    if lieferung is None:
        st.write("Noch keine Lieferung importiert.")
        return
    frame = load(actor, lieferung, bezirk)
    if frame.empty:
        st.write(f"Lieferung Nr. {lieferung} hat keine Hinweise ergeben.")
        return
    st.caption(f"{len(frame)} Hinweise aus Lieferung Nr. {lieferung}"
               + (f", die ersten {limit} gezeigt" if len(frame) > limit else "") + ". " + EXPLAIN)
    st.dataframe(table(frame.head(limit)), hide_index=True, width="stretch", column_config={
        "Sozialraum": st.column_config.LinkColumn("Sozialraum", display_text=r"#(.*)$",
                                                  help="öffnet den Steckbrief des Sozialraums"),
        "Hinweis": st.column_config.TextColumn("Hinweis", width="large"),
    })

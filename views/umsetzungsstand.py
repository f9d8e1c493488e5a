"""Umsetzungsstand: counts per status by Handlungsfeld and Sozialraum, overdue and stale lists, changes, Berichtsstände."""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from quartier import format as fmt
from quartier.access import ADMIN, EDITOR, PermissionDenied
from quartier.actions import charts, model, snapshots, store
from quartier.tables import to_xlsx_bytes
from quartier.ui import actions as cu
from quartier.ui import vega
from quartier.ui.common import get_con
from quartier.ui.guard import page_header
from quartier.ui.session import current_actor
from quartier.ui.text import md
from quartier.ui.widgets import persist_bezirk, set_shared_bezirk
from quartier.values.charts import german

page_header(
    "Umsetzungsstand",
    "Wie weit sind die Handlungsempfehlungen? Stand nach Handlungsfeld, Sozialraum und Stadtbezirk, was überfällig ist oder "
    "lange nicht aktualisiert wurde, was sich seit einem Datum geändert hat, und eingefrorene Berichtsstände.",
)
cu.show_flash()
actor = current_actor()
can_edit = actor.has(EDITOR)
con = get_con()
today = date.today()
months = store.stale_months(con)
df = store.filter_frame(store.visible(cu.catalogue(today), actor))
if df.empty:
    st.info("Noch keine Handlungsempfehlungen erfasst.")
    st.stop()
areas, _ = cu.lookups()
bez = areas.dropna(subset=["bezirk_id"]).drop_duplicates("bezirk_id")
bez_names = dict(zip(bez["bezirk_id"], bez["bezirk"]))
if "ust_bezirk" not in st.session_state and st.query_params.get("bezirk") in bez_names:
    set_shared_bezirk(st.query_params["bezirk"])  # a link wins over the district chosen on another page
bezirk = st.selectbox("Stadtbezirk", ["", *bez_names], **persist_bezirk("ust_bezirk", ["", *bez_names], whole_city=""),
                      format_func=lambda b: bez_names.get(b, "ganze Stadt (mit stadtweiten Empfehlungen)"))
if bezirk:
    df = store.of_district(df, bezirk)
    st.query_params["bezirk"] = bezirk
    if df.empty:
        st.info(f"Für {md(bez_names[bezirk])} gibt es keine Empfehlungen.")
        st.stop()
    st.caption(f"Empfehlungen von {md(bez_names[bezirk])}: {store.DISTRICT_RULE} Dieselbe Auswahl zählt „Mein Bezirk“.")
elif "bezirk" in st.query_params:
    del st.query_params["bezirk"]
shown_ids = set(df["id"])  # changes and Berichtsstände below: the same recommendations only

counts = df["status"].value_counts()
cols = st.columns(4)
cols[0].metric("Empfehlungen", len(df), border=True)
cols[1].metric("umgesetzt oder verstetigt", int(df["status"].isin(model.DONE).sum()), border=True)
cols[2].metric("⚠ überfällig", int(df["ueberfaellig"].sum()), border=True, help=model.FLAG_DEFINITIONS["überfällig"])
cols[3].metric(f"ohne Aktualisierung seit {months} Monaten", int(df["ohne_aktualisierung"].sum()), border=True,
               help=model.FLAG_DEFINITIONS["ohne Aktualisierung"])
st.markdown("Nach Status: " + " · ".join(f"{cu.status_badge(s.name)} **{int(counts.get(s.name, 0))}**"
                                        for s in model.STATUSES), unsafe_allow_html=True)
st.caption(f"{len(df)} Empfehlungen, Stichtag {today:%d.%m.%Y}.")


def _rollup(by: str, label: str, title: str, districts: dict[str, str] | None = None) -> None:
    st.subheader(title)
    long = store.rollup(df, by, districts)
    n_groups = long[by].nunique()
    vega.altair_chart(german(charts.status_bars(long, by, label)), width="stretch", theme=None,
                      height=34 * n_groups + 130)
    wide = store.rollup_wide(df, by, districts).rename(columns={by: label, "gesamt": "gesamt"})
    with st.expander(f"Tabelle: {title}"):
        st.dataframe(wide, hide_index=True, width="stretch")


t1, t2, t3 = st.tabs(["nach Handlungsfeld", "nach Sozialraum", "nach Stadtbezirk"])
with t1:
    _rollup("handlungsfeld", "Handlungsfeld", "Status nach Handlungsfeld")
with t2:
    _rollup("sozialraum", "Sozialraum", "Status nach Sozialraum")
    st.caption("Eine Empfehlung für mehrere Sozialräume zählt in jedem davon; stadtweite Empfehlungen stehen unter „stadtweit“.")
with t3:
    _rollup("stadtbezirk", "Stadtbezirk", "Umsetzungsstand nach Stadtbezirk",
            {bezirk: bez_names[bezirk]} if bezirk else bez_names)
    st.caption(store.DISTRICT_RULE + " Eine stadtweite Empfehlung zählt daher in jedem Stadtbezirk.")


def _list(part: pd.DataFrame, empty: str) -> None:
    """Full width, few columns, long titles wrap: nothing to scroll sideways."""
    if part.empty:
        st.write(empty)
        return
    t = cu.table_frame(part)
    late = store.days_overdue(part, today)
    t["Tage überfällig"] = [fmt.integer(d) if pd.notna(d) else fmt.NOTHING for d in late]
    cols = ["Nummer", "Titel", "Status", "Ende geplant", "Tage überfällig", "Letzte Änderung", "Federführung"]
    st.dataframe(t[cols], hide_index=True, width="stretch", row_height=56, column_config={
        "Nummer": st.column_config.TextColumn(width=80), "Titel": st.column_config.TextColumn(width="large"),
        "Tage überfällig": st.column_config.TextColumn(width=110)})


st.subheader("Überfällig")
_list(df[df["ueberfaellig"]].sort_values("ende_geplant"), "Keine überfälligen Empfehlungen.")
st.subheader(f"Ohne Aktualisierung seit {months} Monaten")
_list(df[df["ohne_aktualisierung"]].sort_values("letzte_aenderung"), "Alle Empfehlungen sind aktuell.")

st.subheader("Änderungen seit einem Datum")
snaps = snapshots.snapshots(con)
default_since = snaps["stichtag"].iloc[0] if not snaps.empty else today - timedelta(days=90)
since = st.date_input("Änderungen seit (z. B. der letzten Ausschusssitzung)", value=pd.Timestamp(default_since).date(),
                      format="DD.MM.YYYY", key="ust_since", max_value=today)
ch = store.changed_since(con, since, actor=actor)
ch = ch[ch["empfehlung_id"].isin(shown_ids)]
if ch.empty:
    st.write(f"Seit dem {since:%d.%m.%Y} wurde nichts geändert.")
else:
    n_rec = ch["empfehlung_id"].nunique()
    n_status = int((ch["feld"] == "status").sum())
    st.markdown(f"Seit dem {since:%d.%m.%Y}: **{len(ch)} Änderungen** an **{n_rec} Empfehlungen**, davon "
                f"**{n_status} Statusänderungen**.")
    show = pd.DataFrame({
        "Datum": ch["zeitpunkt"].map(lambda v: pd.Timestamp(v).strftime("%d.%m.%Y")),
        "Nummer": ch["empfehlung_id"], "Titel": ch["titel"], "Feld": ch["feld_label"],
        "Alt": [("–" if f == model.CREATED else snapshots.show_value(a)) for f, a in zip(ch["feld"], ch["alt"])],
        "Neu": [("angelegt" if f == model.CREATED else snapshots.show_value(n)) for f, n in zip(ch["feld"], ch["neu"])],
        "Begründung": ch["begruendung"], "Wer": ch["benutzer"],
    })
    st.dataframe(show, hide_index=True, width="stretch")

if actor.has(ADMIN):
    with st.expander("Einstellung: Frist „ohne Aktualisierung“"):
        with st.form("ust_frist"):
            n = st.number_input("Monate ohne Änderung, ab denen eine Empfehlung als „ohne Aktualisierung“ gilt",
                                min_value=1, max_value=60, value=months, step=1, key="ust_frist_monate")
            go_frist = st.form_submit_button("Speichern")
        if go_frist:
            try:
                store.set_stale_months(con, actor, int(n))
            except (model.CatalogueError, PermissionDenied) as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                cu.flash(f"Frist auf {int(n)} Monate gesetzt.")
                st.rerun()

st.subheader("Berichtsstände")
st.markdown("Ein Berichtsstand friert den ganzen Katalog zu einem Stichtag ein (auch rückwirkend: spätere Änderungen "
            "werden aus dem Verlauf herausgerechnet). Er ändert sich danach nicht mehr.")
if can_edit:
    with st.form("ust_snapshot"):
        c1, c2 = st.columns([2, 1])
        name = c1.text_input("Name", placeholder=f"z. B. Bericht JHA {today:%d.%m.%Y}", key="ust_snap_name")
        day = c2.date_input("Stichtag", value=today, max_value=today, format="DD.MM.YYYY", key="ust_snap_day")
        go = st.form_submit_button("Berichtsstand anlegen")
    if go:
        try:
            snapshots.create_snapshot(con, actor, name, day)
        except (model.CatalogueError, PermissionDenied) as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            cu.flash(f"Berichtsstand „{name}“ angelegt.")
            st.rerun()
snaps = snapshots.snapshots(con)
if snaps.empty:
    st.write("Noch kein Berichtsstand angelegt.")
else:
    st.dataframe(pd.DataFrame({
        "Name": snaps["name"], "Stichtag": snaps["stichtag"].map(lambda v: pd.Timestamp(v).strftime("%d.%m.%Y")),
        "angelegt von": snaps["erstellt_von"],
        "angelegt am": snaps["erstellt_am"].map(lambda v: pd.Timestamp(v).strftime("%d.%m.%Y %H:%M")),
    }), hide_index=True, width="stretch")
    ids = dict(zip(snaps["name"], snaps["id"]))   # names are unique
    names = list(snaps["name"])
    if len(names) >= 2:
        c1, c2 = st.columns(2)
        a = c1.selectbox("Vergleich: älterer Stand (A)", names, index=1, key="ust_cmp_a")
        b = c2.selectbox("mit neuerem Stand (B)", names, index=0, key="ust_cmp_b")
        diff = snapshots.compare_snapshots(con, ids[a], ids[b], actor=actor)
        if bezirk:  # the district's recommendations (store.DISTRICT_RULE, by their current areas)
            diff = diff[diff["id"].isin(shown_ids)]
        if diff.empty:
            st.write("Die beiden Berichtsstände unterscheiden sich nicht.")
        else:
            st.markdown(f"**{diff['id'].nunique()} Empfehlungen** unterscheiden sich zwischen „{md(a)}“ und „{md(b)}“.")
            st.dataframe(diff.rename(columns={"id": "Nummer", "titel": "Titel", "feld": "Feld", "a": f"A: {a}", "b": f"B: {b}"}),
                         hide_index=True, width="stretch")
    pick = st.selectbox("Berichtsstand herunterladen", names, key="ust_dl_pick")
    st.download_button("Als Excel herunterladen", on_click="ignore",
                       data=lambda: to_xlsx_bytes({"Berichtsstand": snapshots.load_snapshot(con, ids[pick], actor=actor)}),
                       file_name=f"berichtsstand_{ids[pick]}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="ust_dl")

"""Streamlit glue for the Handlungsempfehlungen pages: cached loaders, URL filters, table/cards, detail, staff tools."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from quartier import db, uploads
from quartier import format as fmt
from quartier.access import SYSTEM, PermissionDenied
from quartier.actions import charts, effect, model, snapshots, store
from quartier.actions import excel as cio
from quartier.offers import store as offer_store
from quartier.ui import vega
from quartier.ui.common import data_stamp, get_con
from quartier.ui.text import html_text, md
from quartier.values import indicators
from quartier.values.charts import german

FLASH_KEY = "emp_flash"

# widget key -> (query parameter, kind)
FILTERS = {
    "emp_q": ("q", "text"),
    "emp_feld": ("feld", "list"),
    "emp_sr": ("sozialraum", "list"),
    "emp_bez": ("bezirk", "list"),
    "emp_ff": ("federfuehrung", "list"),
    "emp_status": ("status", "list"),
    "emp_ueberfaellig": ("ueberfaellig", "bool"),
    "emp_veraltet": ("ohne_aktualisierung", "bool"),
    "emp_retired": ("ausgeschiedene", "bool"),
    "emp_ansicht": ("ansicht", "text"),
    "emp_id": ("id", "text"),
}


# The database path is part of every cache key: the write stamp alone is only unique within one database.
@st.cache_data(show_spinner=False)
def _catalogue(path: str, stamp: int, today: date) -> pd.DataFrame:
    return store.catalogue_frame(get_con(), today, actor=SYSTEM)  # all rows; pages filter with store.visible


def catalogue(today: date) -> pd.DataFrame:
    return _catalogue(str(db.db_path()), data_stamp(), today)


@st.cache_data(show_spinner=False)
def _lookups(path: str, stamp: int):
    con = get_con()
    areas = indicators.areas(con)
    ind = indicators.catalogue(con)
    return areas, ind


def lookups():
    return _lookups(str(db.db_path()), data_stamp())


def flash(msg: str) -> None:
    st.session_state[FLASH_KEY] = msg


def show_flash() -> None:
    msg = st.session_state.pop(FLASH_KEY, None)
    if msg:
        st.success(msg, icon=":material/check_circle:")


# ------------------------------------------------------------------------------ URL filters


def init_from_url(valid: dict[str, list]) -> None:
    """Fill widget state from st.query_params once (when the widget has no state yet)."""
    qp = st.query_params
    for key, (param, kind) in FILTERS.items():
        if key in st.session_state:
            continue
        raw = qp.get(param)
        if raw is None:
            continue
        if kind == "list":
            allowed = valid.get(key)
            vals = [v for v in raw.split(",") if v]
            st.session_state[key] = [v for v in vals if allowed is None or v in allowed]
        elif kind == "bool":
            st.session_state[key] = raw in ("1", "ja", "true")
        else:
            allowed = valid.get(key)
            if allowed is None or raw in allowed:
                st.session_state[key] = raw


def write_url() -> None:
    """Mirror the filter widgets into the URL (only non-default values)."""
    out = {}
    for key, (param, kind) in FILTERS.items():
        v = st.session_state.get(key)
        if kind == "list" and v:
            out[param] = ",".join(v)
        elif kind == "bool" and v:
            out[param] = "1"
        elif kind == "text" and v:
            out[param] = str(v)
    if out.get("ansicht") == "Tabelle":
        out.pop("ansicht")
    if dict(st.query_params) != out:
        st.query_params.from_dict(out)


def filter_widgets(df: pd.DataFrame, areas: pd.DataFrame, can_edit: bool = False) -> dict:
    feld_opts = sorted(set(df["handlungsfeld"].dropna()) | set(model.HANDLUNGSFELDER))
    sr_names = dict(zip(areas["id"], areas["name"]))
    bez = areas.dropna(subset=["bezirk_id"]).drop_duplicates("bezirk_id")
    bez_names = dict(zip(bez["bezirk_id"], bez["bezirk"]))
    ff_opts = sorted(set(df["federfuehrung"].dropna()))
    init_from_url({"emp_feld": feld_opts, "emp_sr": list(sr_names), "emp_bez": list(bez_names), "emp_ff": ff_opts,
                   "emp_status": list(model.STATUS_NAMES), "emp_ansicht": ["Tabelle", "Karten"],
                   "emp_id": list(df["id"])})
    with st.container(border=True):
        c1, c2, c3 = st.columns([2, 1, 1])
        c1.text_input("Volltextsuche", key="emp_q", placeholder="z. B. Kümmerer, Sprache, 1069/2020",
                      help="Sucht in Nummer, Titel, Beschreibung, Federführung, Sozialraum und Vorlage.")
        c2.multiselect("Handlungsfeld", feld_opts, key="emp_feld", placeholder="alle")
        c3.multiselect("Status", list(model.STATUS_NAMES), key="emp_status", placeholder="alle")
        c4, c5, c6 = st.columns([1, 1, 1])
        c4.multiselect("Sozialraum", list(sr_names), format_func=lambda s: f"{sr_names[s]} ({s})", key="emp_sr",
                       placeholder="alle")
        c5.multiselect("Stadtbezirk", list(bez_names), format_func=lambda b: bez_names[b], key="emp_bez", placeholder="alle")
        c6.multiselect("Federführung", ff_opts, key="emp_ff", placeholder="alle")
        c7, c8, c9 = st.columns(3)
        c7.checkbox("nur überfällige", key="emp_ueberfaellig", help=model.FLAG_DEFINITIONS["überfällig"])
        c8.checkbox("nur ohne Aktualisierung", key="emp_veraltet", help=model.FLAG_DEFINITIONS["ohne Aktualisierung"])
        if can_edit:
            c9.checkbox("auch ausgeschiedene zeigen", key="emp_retired")
    return {
        "text": st.session_state.get("emp_q"), "handlungsfeld": st.session_state.get("emp_feld"),
        "sozialraum": st.session_state.get("emp_sr"), "bezirk": st.session_state.get("emp_bez"),
        "federfuehrung": st.session_state.get("emp_ff"), "status": st.session_state.get("emp_status"),
        "overdue": bool(st.session_state.get("emp_ueberfaellig")), "stale": bool(st.session_state.get("emp_veraltet")),
        "include_retired": bool(can_edit and st.session_state.get("emp_retired")),
    }


# ------------------------------------------------------------------------------ table and cards


def status_label(status: str) -> str:
    s = model.STATUS_BY_NAME.get(status)
    return f"{s.symbol} {status}" if s else str(status)


def status_badge(status: str) -> str:
    """HTML badge: colour plus symbol and text (never colour alone)."""
    s = model.STATUS_BY_NAME[status]
    fg = "#FFFFFF" if s.colour in ("#0072B2", "#00563B") else "#000000"
    return (f'<span style="background:{s.colour};color:{fg};padding:0.1rem 0.5rem;border-radius:0.6rem;'
            f'font-size:0.9rem;white-space:nowrap">{s.symbol} {status}</span>')


def flag_text(r) -> str:
    out = []
    if r["ueberfaellig"]:
        out.append("⚠ überfällig")
    if r["ohne_aktualisierung"]:
        out.append("ohne Aktualisierung")
    if r["ausgeschieden"]:
        out.append("ausgeschieden")
    if not r["oeffentlich"]:
        out.append("intern")
    return " · ".join(out)


def _d(v) -> str:
    return v.strftime("%d.%m.%Y") if v is not None and not pd.isna(v) else fmt.NOTHING


def table_frame(view: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Nummer": view["id"],
        "Titel": view["titel"],
        "Status": view["status"].map(status_label),
        "Fortschritt": view["fortschritt"],
        "Hinweise": [flag_text(r) for r in view.to_dict("records")],
        "Handlungsfeld": view["handlungsfeld"],
        "Sozialräume": [", ".join(s) if e == "Sozialraum" else "stadtweit" for s, e in zip(view["sozialraum_namen"], view["ebene"])],
        "Federführung": view["federfuehrung"],
        "Ende geplant": view["ende_geplant"].map(_d),
        "Letzte Änderung": view["letzte_aenderung"].map(_d),
    })


def render_table(view: pd.DataFrame) -> None:
    st.dataframe(
        table_frame(view), hide_index=True, width="stretch",
        column_config={"Fortschritt": st.column_config.ProgressColumn("Fortschritt", min_value=0, max_value=100,
                                                                      format="%d %%")},
    )


def _open(rid: str) -> None:
    st.session_state["emp_id"] = rid


def render_cards(view: pd.DataFrame, limit: int = 60) -> None:
    recs = view.to_dict("records")
    if len(recs) > limit:
        st.caption(f"Die ersten {limit} von {len(recs)} Empfehlungen; bitte die Filter nutzen.")
    cols = st.columns(3)
    for i, r in enumerate(recs[:limit]):
        with cols[i % 3].container(border=True):
            st.markdown(f"**{md(r['id'])} · {md(r['titel'])}**")
            st.markdown(status_badge(r["status"]) + (f" &nbsp; {r['fortschritt']:.0f} %" if pd.notna(r["fortschritt"]) else ""),
                        unsafe_allow_html=True)
            where = ", ".join(r["sozialraum_namen"]) if r["ebene"] == "Sozialraum" else "stadtweit"
            st.caption(f"{md(r['handlungsfeld'])} · {md(where)} · {md(r['federfuehrung'] or 'Federführung offen')}")
            flags = flag_text(r)
            if r["beispiel"]:
                flags = ("Beispiel · " + flags) if flags else "Beispiel"
            if flags:
                st.caption(md(flags))
            st.button("Details", key=f"emp_card_{r['id']}", on_click=_open, args=(r["id"],),
                      help=f"Details zu {r['id']} öffnen")


# ------------------------------------------------------------------------------ detail


def render_detail(rec: pd.Series, actor, can_edit: bool, today: date) -> None:
    con = get_con()
    areas, ind = lookups()
    st.subheader(f"{md(rec['id'])} · {md(rec['titel'])}")
    badges = status_badge(rec["status"])
    if pd.notna(rec["fortschritt"]):
        badges += f" &nbsp; Fortschritt {rec['fortschritt']:.0f} %"
    flags = flag_text(rec)
    if flags:
        badges += f" &nbsp; {html_text(flags)}"
    if rec["beispiel"]:
        badges += " &nbsp; (Beispiel)"
    st.markdown(badges, unsafe_allow_html=True)
    st.caption(f"Status „{rec['status']}“: {model.STATUS_BY_NAME[rec['status']].definition}")
    tabs = ["Überblick", "Verlauf", "Kennzahlen", "Wirkungsblick"] + (["Bearbeiten"] if can_edit else [])
    t = st.tabs(tabs)
    with t[0]:
        if rec["beschreibung"]:
            st.markdown(md(rec["beschreibung"]))
        where = ", ".join(rec["sozialraum_namen"]) if rec["ebene"] == "Sozialraum" else "stadtweit"
        facts = {
            "Handlungsfeld": rec["handlungsfeld"], "Ebene / Sozialräume": f"{rec['ebene']}: {where}",
            "Zielgruppe": ", ".join(rec["zielgruppe"]) or fmt.NOTHING, "Federführung": rec["federfuehrung"] or fmt.NOTHING,
            "Beteiligte Ämter": ", ".join(rec["beteiligte"]) or fmt.NOTHING, "Kontakt": rec["kontakt"] or fmt.NOTHING,
            "Priorität": rec["prioritaet"] or fmt.NOTHING,
            "Zeitplan": f"geplant {_d(rec['beginn_geplant'])} bis {_d(rec['ende_geplant'])}; "
                        f"tatsächlich {_d(rec['beginn_ist'])} bis {_d(rec['ende_ist'])}",
            "Kennzahlen": ", ".join(rec["indikator_namen"]) or fmt.NOTHING,
            "Umsetzende Angebote": offer_labels(rec["angebote"], actor) or fmt.NOTHING,
            "Letzte Änderung": _d(rec["letzte_aenderung"]),
        }
        st.markdown("\n".join(f"- **{k}:** {md(v)}" for k, v in facts.items()))
        st.markdown("**Beschluss**")
        if rec["vorlage"] or rec["gremium"]:
            st.markdown(f"Vorlage **{md(rec['vorlage'] or fmt.NOTHING)}**, {md(rec['gremium'] or 'Gremium offen')}, "
                        f"Beschluss vom {_d(rec['beschluss_datum'])}.")
        else:
            st.write("Kein Ratsbeschluss eingetragen.")
        for h in model.hints(store.get(con, rec["id"], actor=actor) or {}):
            st.warning(md(h), icon=":material/info:")
    with t[1]:
        render_history(rec["id"], actor)
    with t[2]:
        render_indicators(rec, actor, areas, ind)
    with t[3]:
        render_effect(rec["id"], actor)
    if can_edit:
        with t[4]:
            render_edit(rec, actor, areas, ind)


def _offer_names(actor) -> dict[str, str]:
    df = offer_store.offers(get_con(), actor=actor, include_closed=True)
    return {r["id"]: f"{r['name']} ({r['kategorie']}{', geschlossen' if r['status'] != 'aktiv' else ''})"
            for r in df.to_dict("records")}


def offer_labels(ids, actor) -> str:
    """The linked offers by name and category (the Angebote page shows them on the offer, too)."""
    names = _offer_names(actor)
    return ", ".join(names.get(a, a) for a in (ids or []))


def render_history(rid: str, actor) -> None:
    h = store.history(get_con(), rid, actor=actor).sort_values(["zeitpunkt", "id"], ascending=False)
    if h.empty:
        st.write("Kein Verlauf.")
        return
    lines = []
    for r in h.to_dict("records"):
        when = pd.Timestamp(r["zeitpunkt"]).strftime("%d.%m.%Y")
        if r["feld"] == model.CREATED:
            what = "Empfehlung angelegt"
        else:
            what = f"{md(r['feld_label'])}: {md(snapshots.show_value(r['alt']))} → {md(snapshots.show_value(r['neu']))}"
        why = f"  \n  _Begründung:_ {md(r['begruendung'])}" if r["begruendung"] else ""
        lines.append(f"- **{when}** · {md(r['benutzer'])} — {what}{why}")
    st.markdown("\n".join(lines))
    with st.expander("Verlauf als Tabelle"):
        t = h.assign(Zeitpunkt=h["zeitpunkt"].map(lambda v: pd.Timestamp(v).strftime("%d.%m.%Y %H:%M")),
                     Alt=h["alt"].map(snapshots.show_value), Neu=h["neu"].map(snapshots.show_value))
        t.loc[t["feld"] == model.CREATED, ["Alt", "Neu"]] = ["–", "angelegt"]
        st.dataframe(t[["Zeitpunkt", "benutzer", "feld_label", "Alt", "Neu", "begruendung"]].rename(columns={
            "benutzer": "Wer", "feld_label": "Feld", "begruendung": "Begründung"}), hide_index=True, width="stretch")


def render_indicators(rec, actor, areas: pd.DataFrame, ind: pd.DataFrame) -> None:
    if not rec["indikatoren"]:
        st.write("Dieser Empfehlung sind keine Kennzahlen zugeordnet.")
        return
    con = get_con()
    meta = ind.set_index("id")
    names = dict(zip(areas["id"], areas["name"]))
    start = rec["beginn_ist"] if pd.notna(rec["beginn_ist"]) and rec["beginn_ist"] else rec["beginn_geplant"]
    start_year = start.year if start is not None and not pd.isna(start) else None
    for iid in rec["indikatoren"]:
        if iid not in meta.index:
            continue
        m = meta.loc[iid]
        dec = fmt.decimals_for(m["einheit"], m.get("dezimalstellen"))  # the indicator's decimals (catalogue)
        v = indicators.current_values(con, [iid], actor=actor)
        if v.empty:
            st.markdown(f"{md(m['name'])}: keine Werte.")
            continue
        parts = []
        for sid in rec["sozialraeume"]:
            s = v[v["sozialraum_id"] == sid][["jahr", "wert", "zaehler", "nenner", "gesperrt"]].assign(gruppe=names.get(sid, sid))
            parts.append(s)
        if actor is not None and actor.can_see_raw:
            city = indicators.aggregate(v, m["einheit"], ["jahr"]).assign(gruppe="Gesamtstadt", gesperrt=False)
        else:  # viewers: the city value as protected_table publishes it (protected areas still count in it)
            from quartier.values.protection import LEVEL_CITY, protected_table

            t = protected_table(con, [iid], None, actor=actor)
            city = t[t["ebene"] == LEVEL_CITY].assign(gruppe="Gesamtstadt")
        parts.append(city[["jahr", "wert", "zaehler", "nenner", "gesperrt", "gruppe"]])
        series = pd.concat(parts, ignore_index=True)
        st.markdown(f"**{md(m['name'])}** ({md(m['einheit'])}; {indicators.DIRECTION_LABEL.get(m['richtung'], '')})")
        vega.altair_chart(german(charts.indicator_lines(series, m["kurzname"] or m["name"], m["einheit"], start_year,
                                                           decimals=dec)),
                          width="stretch", theme=None, height=330)
        wide = series.assign(txt=[fmt.value(w, m["einheit"], dec, suppressed=bool(g)) for w, g in zip(series["wert"], series["gesperrt"])])
        wide = wide.pivot_table(index="jahr", columns="gruppe", values="txt", aggfunc="first").reset_index()
        wide = wide.rename(columns={"jahr": "Jahr"})
        wide["Jahr"] = wide["Jahr"].astype(str)
        with st.expander(f"Tabelle: {md(m['name'])}"):
            st.dataframe(wide, hide_index=True, width="stretch")
    st.caption("Gesamtstadt aus der Summe der Zähler und Nenner aller Sozialräume; • = geschützt (kleine Fallzahl).")


def render_effect(rid: str, actor) -> None:
    try:
        eff = effect.effect(get_con(), rid, actor=actor)
    except model.CatalogueError as exc:
        st.error(md(exc))
        return
    st.info(eff["grenzen"], icon=":material/info:")
    for h in eff["hinweise"]:
        st.warning(md(h))
    if eff["start"] is not None:
        st.markdown(f"Start der Maßnahme: **{eff['start']:%d.%m.%Y}** ({eff['start_quelle']}); das Startjahr "
                    f"{eff['start_jahr']} gilt als Übergangsjahr und zählt weder zu vorher noch zu nachher.")
    for item in eff["indikatoren"]:
        st.markdown(f"**{md(item['name'])}**")
        vega.altair_chart(german(charts.indicator_lines(item["reihe"], item["kurzname"], item["einheit"], eff["start_jahr"],
                                                           decimals=item["dezimalstellen"])),
                          width="stretch", theme=None, height=330)
        rows = []
        for grp, p in item["perioden"].items():
            rows.append({"Gebiet": grp, f"vorher ({effect.year_span(item['vorher_jahre'])})": fmt.value(p["vorher"], item["einheit"], item["dezimalstellen"]),
                         f"nachher ({effect.year_span(item['nachher_jahre'])})": fmt.value(p["nachher"], item["einheit"], item["dezimalstellen"]),
                         "Veränderung": fmt.change(p["veraenderung"], item["einheit"], item["dezimalstellen"]),
                         "Basis vorher": fmt.integer(p["basis_vorher"]), "Basis nachher": fmt.integer(p["basis_nachher"])})
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.markdown(md(item["aussage"]))


def _none_if_nan(v):
    return None if v is None or (not isinstance(v, list) and pd.isna(v)) else v


def render_edit(rec, actor, areas: pd.DataFrame, ind: pd.DataFrame) -> None:
    con = get_con()
    rid = rec["id"]
    sr_names = dict(zip(areas["id"], areas["name"]))
    ind_names = dict(zip(ind["id"], ind["name"]))
    with st.form(f"emp_edit_{rid}"):
        st.markdown("**Status, Zeitplan und Texte ändern**")
        c1, c2 = st.columns(2)
        status = c1.selectbox("Status", list(model.STATUS_NAMES), index=list(model.STATUS_NAMES).index(rec["status"]),
                              format_func=status_label, key=f"emp_edit_status_{rid}")
        progress = c2.number_input("Fortschritt in %", min_value=0, max_value=100, step=5,
                                   value=None if pd.isna(rec["fortschritt"]) else int(rec["fortschritt"]),
                                   key=f"emp_edit_progress_{rid}", help="Wird nie aus dem Status abgeleitet; leer = unbekannt.")
        d1, d2, d3, d4 = st.columns(4)
        dates = {}
        for col, key in zip((d1, d2, d3, d4), ("beginn_geplant", "ende_geplant", "beginn_ist", "ende_ist")):
            dates[key] = col.date_input(model.FIELDS[key][0], value=_none_if_nan(rec[key]), format="DD.MM.YYYY",
                                        key=f"emp_edit_{key}_{rid}", min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
        titel = st.text_input("Titel", value=rec["titel"], key=f"emp_edit_titel_{rid}")
        beschreibung = st.text_area("Beschreibung", value=rec["beschreibung"] or "", key=f"emp_edit_beschreibung_{rid}")
        e1, e2 = st.columns(2)
        ff = e1.text_input("Federführung", value=rec["federfuehrung"] or "", key=f"emp_edit_ff_{rid}")
        kontakt = e2.text_input("Kontakt", value=rec["kontakt"] or "", key=f"emp_edit_kontakt_{rid}")
        srs = e1.multiselect("Sozialräume", list(sr_names), default=[s for s in rec["sozialraeume"] if s in sr_names],
                             format_func=lambda s: f"{sr_names[s]} ({s})", key=f"emp_edit_sr_{rid}")
        inds = e2.multiselect("Kennzahlen", list(ind_names), default=[i for i in rec["indikatoren"] if i in ind_names],
                              format_func=lambda i: ind_names[i], key=f"emp_edit_ind_{rid}")
        offer_names = _offer_names(actor)
        offers = st.multiselect("Angebote, die die Empfehlung umsetzen (entstanden oder erweitert)", list(offer_names),
                                default=[a for a in rec["angebote"] if a in offer_names],
                                format_func=lambda a: offer_names[a], key=f"emp_edit_ang_{rid}")
        public = st.checkbox("öffentlich sichtbar", value=bool(rec["oeffentlich"]), key=f"emp_edit_public_{rid}")
        reason = st.text_area("Begründung (Pflicht bei Statusänderung, erscheint im Verlauf)", key=f"emp_edit_reason_{rid}")
        submitted = st.form_submit_button("Änderungen speichern", type="primary")
    if submitted:
        changes = {"status": status, "fortschritt": progress, "titel": titel, "beschreibung": beschreibung or None,
                   "federfuehrung": ff or None, "kontakt": kontakt or None, "sozialraeume": srs, "indikatoren": inds,
                   "angebote": offers, "oeffentlich": public, **dates}
        try:
            diff = store.update(con, actor, rid, changes, justification=reason)
        except (model.CatalogueError, PermissionDenied) as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            flash(f"{rid}: {len(diff)} Feld(er) gespeichert." if diff else f"{rid}: nichts geändert.")
            st.rerun()
    with st.form(f"emp_retire_{rid}"):
        st.markdown("**Empfehlung ausscheiden** (bleibt mit Verlauf erhalten, erscheint nicht mehr im Katalog)")
        why = st.text_input("Begründung für das Ausscheiden", key=f"emp_retire_reason_{rid}")
        go = st.form_submit_button("Ausscheiden", disabled=bool(rec["ausgeschieden"]))
    if go:
        try:
            store.retire(con, actor, rid, why)
        except (model.CatalogueError, PermissionDenied) as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            flash(f"{rid} ist ausgeschieden; mit „auch ausgeschiedene zeigen“ bleibt sie samt Verlauf sichtbar.")
            st.rerun()


# ------------------------------------------------------------------------------ staff tools


def render_staff_tools(view: pd.DataFrame, full: pd.DataFrame, actor) -> None:
    """The editors' tools below the list: bulk status, new recommendation, Excel round trip."""
    con = get_con()
    areas, _ = lookups()
    st.subheader("Bearbeitung")
    with st.expander("Status mehrerer Empfehlungen ändern"):
        _bulk_status_form(con, view, actor)
    with st.expander("Neue Empfehlung anlegen"):
        _new_form(con, full, areas, actor)
    with st.expander("Excel: Katalog herunterladen oder Änderungen hochladen"):
        _excel_round_trip(con, actor)


def _bulk_status_form(con, view: pd.DataFrame, actor) -> None:
    with st.form("emp_bulk"):
        ids = st.multiselect("Empfehlungen (aus der gefilterten Liste)", list(view["id"]),
                             format_func=lambda i: f"{i} · {view.set_index('id').at[i, 'titel']}", key="emp_bulk_ids")
        status = st.selectbox("Neuer Status", list(model.STATUS_NAMES), format_func=status_label, key="emp_bulk_status")
        reason = st.text_input("Begründung (für alle)", key="emp_bulk_reason")
        go = st.form_submit_button("Status setzen")
    if go:
        try:
            n = store.bulk_status(con, actor, ids, status, reason)
        except (model.CatalogueError, PermissionDenied) as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            flash(f"Status von {n} Empfehlung(en) auf „{status}“ gesetzt.")
            st.rerun()


def _new_form(con, full: pd.DataFrame, areas: pd.DataFrame, actor) -> None:
    existing = set(full["id"])
    nums = [int(i.split("-")[-1]) for i in existing if i.split("-")[-1].isdigit()]
    suggestion = f"HE-{(max(nums) + 1) if nums else 1:02d}"
    sr_names = dict(zip(areas["id"], areas["name"]))
    with st.form("emp_new"):
        c1, c2 = st.columns([1, 3])
        rid = c1.text_input("Nummer", value=suggestion, key="emp_new_id")
        titel = c2.text_input("Titel", key="emp_new_titel")
        beschreibung = st.text_area("Beschreibung", key="emp_new_beschreibung")
        c3, c4, c5 = st.columns(3)
        feld = c3.selectbox("Handlungsfeld", list(model.HANDLUNGSFELDER), key="emp_new_feld")
        ebene = c4.selectbox("Ebene", list(model.LEVELS), key="emp_new_ebene")
        prio = c5.selectbox("Priorität", ["", *model.PRIORITIES], key="emp_new_prio")
        srs = st.multiselect("Sozialräume", list(sr_names), format_func=lambda s: f"{sr_names[s]} ({s})", key="emp_new_sr")
        zg = st.multiselect("Zielgruppe", list(model.ZIELGRUPPEN), key="emp_new_zg")
        c6, c7, c8 = st.columns(3)
        ff = c6.text_input("Federführung", key="emp_new_ff")
        vorlage = c7.text_input("Vorlage", key="emp_new_vorlage", placeholder="z. B. 1069/2020")
        gremium = c8.text_input("Gremium", value="Jugendhilfeausschuss", key="emp_new_gremium")
        c9, c10 = st.columns(2)
        bg = c9.date_input("Beginn geplant", value=None, format="DD.MM.YYYY", key="emp_new_bg")
        eg = c10.date_input("Ende geplant", value=None, format="DD.MM.YYYY", key="emp_new_eg")
        public = st.checkbox("öffentlich sichtbar", value=True, key="emp_new_public")
        go = st.form_submit_button("Anlegen")
    if go:
        try:
            store.create(con, actor, rid, {"titel": titel, "beschreibung": beschreibung or None, "handlungsfeld": feld,
                                           "ebene": ebene, "prioritaet": prio or None, "sozialraeume": srs,
                                           "zielgruppe": zg, "federfuehrung": ff or None, "vorlage": vorlage or None,
                                           "gremium": gremium or None, "beginn_geplant": bg, "ende_geplant": eg,
                                           "oeffentlich": public})
        except (model.CatalogueError, PermissionDenied) as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            flash(f"{rid} angelegt.")
            st.rerun()


def _excel_round_trip(con, actor) -> None:
    st.download_button("Katalog als Excel herunterladen", lambda: cio.export_xlsx(con), file_name="handlungsempfehlungen.xlsx",
                       on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="emp_export")
    st.caption("Dasselbe Format wird wieder eingelesen. Für Statusmeldungen genügen die Spalten Nummer, Status, "
               "Fortschritt % und Begründung.")
    up = st.file_uploader("Excel- oder CSV-Datei hochladen", type=["xlsx", "csv"], key="emp_upload",
                          max_upload_size=uploads.UPLOAD_WIDGET_MB, help=uploads.UPLOAD_LIMIT_HELP)
    if up is not None:
        data = up.getvalue()
        try:
            res = cio.import_file(con, actor, data, up.name, dry_run=True)
        except cio.ImportFileError as exc:
            st.error(md(exc))
            return
        render_import_result(res)
        if res.ok and (res.new or res.changed):
            if st.button("Alle Änderungen übernehmen", type="primary", key="emp_upload_commit"):
                try:
                    done = cio.import_file(con, actor, data, up.name)
                except PermissionDenied as exc:
                    st.error(str(exc))
                else:
                    if done.ok:
                        flash(f"{up.name}: {done.new} neu, {done.changed} geändert übernommen.")
                        st.rerun()
                    render_import_result(done)


def render_import_result(res: cio.ImportResult) -> None:
    st.markdown(f"**Vorschau:** {res.new} neu, {res.changed} geändert, {res.unchanged} unverändert, "
                f"{len(res.errors)} Fehler, {len(res.warnings)} Hinweise.")
    if res.errors:
        st.error("Die Datei wird nicht übernommen (alles oder nichts). Bitte diese Zellen korrigieren:")
        st.dataframe(pd.DataFrame(res.errors)[["sheet", "cell", "column", "value", "message"]].rename(columns={
            "sheet": "Blatt", "cell": "Zelle", "column": "Spalte", "value": "Wert", "message": "Fehler"}),
            hide_index=True, width="stretch")
    if res.warnings:
        with st.expander(f"{len(res.warnings)} Hinweise"):
            st.markdown("\n".join(f"- {w['message']}" for w in res.warnings))
    rows = [{"Nummer": p["id"], "Titel": p["titel"], "Art": p["art"],
             "Änderungen": "; ".join(f"{c['label']}: {snapshots.show_value(c['alt'])} → {snapshots.show_value(c['neu'])}" for c in p["aenderungen"])}
            for p in res.preview]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

"""Page "Angebote": Stadtbezirk figures, the offers list with their Handlungsempfehlungen, editing single offers
(staff), saved planning scenarios (list, load, delete)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from quartier import format as fmt
from quartier.access import EDITOR, PermissionDenied
from quartier.actions import store as action_store
from quartier.errors import QuartierError
from quartier.offers import edit, store, supply
from quartier.ui.common import arrow, get_con

NEW = "\x00neu"


def districts(res: supply.Supply) -> None:
    """The Stadtbezirk table (ratios of sums; empty where coverage is incomplete, with the reason)."""
    b = res.bezirke
    if b is None or b.empty:
        return
    st.subheader("Versorgung je Stadtbezirk")
    st.caption("Summen der Sozialräume, Plätze je 100 als Verhältnis der Summen. Ein Stadtbezirkswert der Zielgruppe "
               "entsteht nur, wenn jeder seiner Sozialräume einen Wert hat: gesperrte Werte sind weder 0 noch fehlend "
               "und werden nicht herausgerechnet.")
    t = pd.DataFrame({"Stadtbezirk": b["bezirk"], "Sozialräume": b["sozialraeume"], "Angebote": b["angebote"],
                      "Plätze": b["plaetze"], "Zielgruppe": b["zielgruppe"], "Plätze je 100": b["plaetze_je_100"].astype(float).round(2),
                      "Fläche in Reichweite (%)": (b["erreichbar_anteil"].astype(float) * 100).round(1),
                      "Hinweis": b["hinweis"].replace("", fmt.NOTHING)})
    st.dataframe(arrow(t), hide_index=True, width="stretch", key="ang_bezirke",
                 column_config={c: st.column_config.NumberColumn(c, format="localized")
                                for c in ("Plätze", "Zielgruppe", "Plätze je 100", "Fläche in Reichweite (%)")})
    if res.stadt.get("hinweis"):
        st.caption(f"Stadt: {res.stadt['hinweis']}.")


def offers_list(kat: str, year: int, actor) -> pd.DataFrame:
    """The offers of the category open in the year, with the Handlungsempfehlungen that name them."""
    con = get_con()
    df = store.offers(con, kat, year, actor=actor)
    links = action_store.offer_links(con, actor=actor)
    names = dict(con.cursor().execute("SELECT id, name FROM sozialraum").fetchall())
    t = pd.DataFrame({"Id": df["id"], "Name": df["name"], "Träger": df["traeger"], "Adresse": df["adresse"],
                      "Plätze": df["plaetze"], "Sozialraum": df["sozialraum_id"].map(lambda s: names.get(s, s)),
                      "Handlungsempfehlungen": df["id"].map(lambda a: ", ".join(links.get(a, [])) or fmt.NOTHING)})
    with st.expander(f"Angebote „{kat}“ {year} ({len(t)})"):
        st.dataframe(arrow(t), hide_index=True, width="stretch", key="ang_liste")
        st.caption("Handlungsempfehlungen: die Empfehlungen, durch die das Angebot entstand oder erweitert wurde "
                   "(zu verknüpfen auf der Seite „Handlungsempfehlungen“ unter „Bearbeiten“).")
    return df


def _form_values(prefix: str, row: dict, cats: list[str]) -> tuple[dict, bool]:
    c1, c2, c3 = st.columns(3)
    vals = {
        "name": c1.text_input("Name", value=row.get("name") or "", key=f"{prefix}_name"),
        "kategorie": c2.selectbox("Kategorie", cats, index=cats.index(row["kategorie"]) if row.get("kategorie") in cats
                                  else 0, key=f"{prefix}_kategorie"),
        "traeger": c3.text_input("Träger", value=row.get("traeger") or "", key=f"{prefix}_traeger"),
        "adresse": c1.text_input("Adresse", value=row.get("adresse") or "", key=f"{prefix}_adresse"),
        "plaetze": c2.number_input("Plätze (leer = unbekannt)", min_value=0, step=1, key=f"{prefix}_plaetze",
                                   value=None if pd.isna(row.get("plaetze")) else int(row["plaetze"])),
        "zielgruppe": c3.text_input("Zielgruppe (Text)", value=row.get("zielgruppe") or "", key=f"{prefix}_zielgruppe"),
        "lat": c1.number_input("Breitengrad", value=None if pd.isna(row.get("lat")) else float(row["lat"]), format="%.6f",
                               key=f"{prefix}_lat"),
        "lon": c2.number_input("Längengrad", value=None if pd.isna(row.get("lon")) else float(row["lon"]), format="%.6f",
                               key=f"{prefix}_lon"),
        "sozialraum": c3.text_input("Sozialraum (nur ohne Koordinaten nötig)", value=row.get("sozialraum_id") or "",
                                    key=f"{prefix}_sozialraum"),
        "beginn": c1.date_input("Beginn", value=_date(row.get("beginn")), format="DD.MM.YYYY", key=f"{prefix}_beginn",
                                min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
        "ende": c2.date_input("Ende", value=_date(row.get("ende")), format="DD.MM.YYYY", key=f"{prefix}_ende",
                              min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    }
    return vals, st.form_submit_button("Angebot speichern", type="primary")


def _date(v):
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


def edit_section(kat: str, cats: list[str], actor) -> None:
    """Staff: add, change or close one offer (checked like the import; history and audit in the core)."""
    if not actor.has(EDITOR):
        return
    con = get_con()
    st.subheader("Einzelnes Angebot bearbeiten")
    df = store.offers(con, kat, actor=actor)
    opts = [NEW] + list(df["id"])
    label = dict(zip(df["id"], df["name"] + " (" + df["id"] + ")"))
    sel = str(st.selectbox("Angebot", opts, format_func=lambda a: "neues Angebot anlegen" if a == NEW else label[a],
                           key="ang_edit_sel"))
    row = {"kategorie": kat} if sel == NEW else df[df["id"] == sel].iloc[0].to_dict()
    prefix = f"ang_edit_{'neu' if sel == NEW else sel}"
    with st.form(f"{prefix}_form"):
        new_id = st.text_input("Id (leer = aus Name, Kategorie und Adresse)", key=f"{prefix}_id") if sel == NEW else None
        vals, go = _form_values(prefix, row, cats)
    if go:
        if new_id:
            vals["id"] = new_id
        try:
            out = edit.save(con, vals, actor=actor, angebot_id=None if sel == NEW else sel)
        except (QuartierError, PermissionDenied) as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            what = {"neu": "angelegt", "geaendert": "geändert", "unveraendert": "unverändert (nichts zu speichern)"}
            st.session_state["ang_edit_msg"] = f"Angebot „{out['id']}“ {what[out['aktion']]}." + \
                "".join(f" Hinweis: {w}" for w in out["warnungen"])
            st.rerun()
    if msg := st.session_state.pop("ang_edit_msg", None):
        st.success(msg)
    if sel != NEW:
        recs = action_store.of_offer(con, sel, actor=actor)
        st.caption("Handlungsempfehlungen zu diesem Angebot: " + (", ".join(f"{r['id']} {r['titel']} ({r['status']})"
                                                                        for r in recs.to_dict("records")) or "keine"))
        with st.form(f"{prefix}_close"):
            end = st.date_input("Letzter Tag (leer = Ende wie eingetragen)", value=None, format="DD.MM.YYYY",
                                key=f"{prefix}_close_end")
            if st.form_submit_button("Angebot schließen"):
                try:
                    edit.close(con, sel, actor=actor, ende=end)
                except (QuartierError, PermissionDenied) as exc:
                    st.error(str(exc), icon=":material/error:")
                else:
                    st.session_state["ang_edit_msg"] = f"Angebot „{sel}“ geschlossen (bleibt im Verlauf)."
                    st.session_state.pop("ang_edit_sel", None)
                    st.rerun()


def scenario_section(kat: str, planned: list[dict], actor) -> None:
    """Saved scenarios of the category: load one as the planned offers (replacing them), or delete one (staff)."""
    if msg := st.session_state.pop("ang_szenario_msg", None):
        st.success(msg)
    saved = store.scenarios(get_con(), kat)
    if not saved:
        st.caption(f"Für „{kat}“ ist noch kein Szenario gespeichert.")
        return
    by_name = {s["name"]: s for s in saved}
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    name = c1.selectbox("Gespeicherte Szenarien", list(by_name), key="ang_szenario_wahl",
                        format_func=lambda n: f"{n} ({len(by_name[n]['angebote'])} Angebote, "
                                              f"{by_name[n]['von']}, {pd.Timestamp(by_name[n]['am']):%d.%m.%Y})")
    if c2.button("Szenario laden", key="ang_szenario_laden"):
        try:
            sc = store.load_scenario(get_con(), name)
        except QuartierError as exc:
            st.error(str(exc))
        else:
            planned.clear()
            planned.extend({"lon": float(p["lon"]), "lat": float(p["lat"]), "plaetze": p.get("plaetze"),
                            "name": p.get("name") or f"geplant {i + 1}"} for i, p in enumerate(sc["angebote"]))
            st.session_state.pop("ang_last_click", None)
            st.session_state["ang_szenario_msg"] = f"Szenario „{name}“ geladen ({len(planned)} geplante Angebote)."
            st.rerun()
    if actor.has(EDITOR) and c3.button("Szenario löschen", key="ang_szenario_loeschen"):
        try:
            store.delete_scenario(get_con(), name, actor=actor)
        except (QuartierError, PermissionDenied) as exc:
            st.error(str(exc))
        else:
            st.session_state["ang_szenario_msg"] = f"Szenario „{name}“ gelöscht."
            st.rerun()

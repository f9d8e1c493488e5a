"""Lieferungen: Verlauf mit Prüfberichten, Zurückziehen, Lieferstatus je Lieferant und Jahr, Vorlage."""

import pandas as pd
import streamlit as st

from quartier import access, ingest
from quartier import format as fmt
from quartier.ingest.analysis import rule_label
from quartier.ui import hinweise as hinweise_ui
from quartier.ui import imports as ui
from quartier.ui.common import data_stamp, get_con
from quartier.ui.guard import page_header
from quartier.ui.session import current_actor
from quartier.ui.text import md
from quartier.values import coverage, indicators


@st.cache_data(show_spinner=False)
def _history(stamp: int) -> pd.DataFrame:
    return ingest.history(get_con())


@st.cache_data(show_spinner=False)
def _status(stamp: int, years: tuple[int, ...]) -> pd.DataFrame:
    return ingest.lieferstatus(get_con(), list(years))


page_header("Lieferungen", "Alle übernommenen Lieferungen mit ihrem Prüfbericht. Eine Lieferung lässt sich zurückziehen: "
            "ihre Werte zählen dann nicht mehr, und die Werte, die sie ersetzt hatte, gelten wieder.")
@st.cache_data(show_spinner=False)
def _coverage(stamp: int, years: tuple[int, ...]) -> pd.DataFrame:
    cov = coverage.coverage(get_con(), None, list(years))
    return cov[cov["stadtbezirk_id"].isna()]


def _with_coverage(status: pd.DataFrame, cov: pd.DataFrame) -> pd.DataFrame:
    """Lieferstatus plus coverage per indicator and year: '✓ 23/23', '⚠ 5/23 unvollständig', '– ausstehend'."""
    out = status.merge(cov[["indikator_id", "jahr", "gebiete_geliefert", "gebiete_gesamt"]], on=["indikator_id", "jahr"],
                       how="left")
    out["unvollstaendig"] = (out["gebiete_geliefert"] < out["gebiete_gesamt"]).fillna(False).astype(bool)

    def stand(r) -> str:
        if r["status"] != "geliefert":
            return "– ausstehend"
        if pd.isna(r["gebiete_gesamt"]):
            return f"✓ {int(r['sozialraeume'])}"
        frac = coverage.short(r["gebiete_geliefert"], r["gebiete_gesamt"])
        return f"⚠ {frac} unvollständig" if r["unvollstaendig"] else f"✓ {frac}"

    out["Stand"] = [stand(r) for r in out.to_dict("records")]
    return out


tab_hist, tab_status, tab_tpl = st.tabs(["Verlauf", "Lieferstatus", "Vorlage"])

with tab_hist:
    hist = _history(data_stamp())
    if hist.empty:
        st.info("Noch keine Lieferungen. Neue Dateien über die Seite „Daten-Import“ hochladen.")
    else:
        show = pd.DataFrame({
            "Nr.": hist["id"], "Datei": hist["dateiname"], "Lieferant": hist["lieferant"], "Berichtsjahr": hist["berichtsjahr"],
            "importiert am": hist["importiert_am"].dt.strftime("%d.%m.%Y %H:%M"), "von": hist["importiert_von"],
            "Hinweise": hinweise_ui.counts(current_actor(), hist["id"]),
            "neu": hist["n_neu"], "geändert": hist["n_geaendert"], "unverändert": hist["n_unveraendert"],
            "gesperrt": hist["n_gesperrt"], "aktuell gültig": hist["n_aktuell"],
            "Status": hist["status"].map({"aktiv": "aktiv", "zurueckgezogen": "zurückgezogen"}),
        })
        st.dataframe(show, hide_index=True, width="stretch")
        labels = {int(r["id"]): f"#{r['id']} – {r['dateiname']} ({r['lieferant'] or '–'}, {r['status']})" for r in hist.to_dict("records")}
        lid = st.selectbox("Lieferung ansehen", list(labels), format_func=labels.get, key="lief_sel")
        rec = hist[hist["id"] == lid].iloc[0]
        rep = ingest.report_of(get_con(), lid)
        st.markdown(f"**Lieferung #{lid}**: {md(rec['dateiname'])} · SHA-256 `{rec['sha256'][:16]}…` · "
                    f"importiert am {rec['importiert_am']:%d.%m.%Y %H:%M} von {md(rec['importiert_von'])}"
                    + (f" · zurückgezogen am {rec['zurueckgezogen_am']:%d.%m.%Y %H:%M} von {md(rec['zurueckgezogen_von'])}"
                       if rec["status"] != "aktiv" else ""))
        findings = [{"Art": "Fehler", **e} for e in rep.get("errors", [])] + [{"Art": "Warnung", **w} for w in rep.get("warnings", [])]
        if findings:  # the messages as wrapping lines (a table cell cuts them off), the table below for sorting
            ui.findings_lines([(ingest.ERROR if f["Art"] == "Fehler" else ingest.WARNING, f.get("sheet"), f.get("cell"),
                                str(f.get("rule") or ""), str(f.get("message") or "")) for f in findings], "Tabelle unten")
        findings = [{**f, "rule": rule_label(str(f.get("rule") or ""))} for f in findings]  # German, not the rule id
        if findings:
            st.dataframe(pd.DataFrame(findings).rename(columns={"sheet": "Blatt", "cell": "Zelle", "column": "Spalte", "value": "Wert",
                                                                "rule": "Regel", "message": "Meldung"}),
                         hide_index=True, width="stretch")
        for line in rep.get("infos", []):
            st.caption(md(line))
        hinweise_ui.section(current_actor(), lieferung=int(lid), title=f"Hinweise aus Lieferung Nr. {lid}")
        if rec["status"] == "aktiv":
            with st.container(border=True):
                st.markdown("**Lieferung zurückziehen**")
                reason = st.text_input("Begründung (für das Audit-Log)", key=f"wd_reason_{lid}")
                sure = st.checkbox(f"Ja, Lieferung #{lid} zurückziehen: ihre {fmt.integer(rec['n_aktuell'])} aktuell gültigen Werte "
                                   "zählen danach nicht mehr.", key=f"wd_sure_{lid}")
                if st.button("Zurückziehen", key=f"wd_btn_{lid}", disabled=not sure, icon=":material/undo:"):
                    try:
                        res = ingest.withdraw(get_con(), lid, current_actor(), reason or None)
                    except (ingest.ImportRejected, access.PermissionDenied) as exc:
                        st.error(md(exc))
                    else:
                        st.session_state["lief_flash"] = (f"Lieferung #{lid} zurückgezogen: {res['werte_entfernt']} Werte zählen nicht "
                                                          f"mehr, {res['wieder_gueltig']} frühere Werte gelten wieder.")
                        st.rerun()
    if st.session_state.get("lief_flash"):
        st.success(st.session_state.pop("lief_flash"), icon=":material/undo:")

with tab_status:
    delivered = indicators.years(get_con())
    if not delivered:
        st.info("Noch keine Werte geliefert.")
    else:
        lo, hi = delivered[0], delivered[-1] + 1
        y0, y1 = st.select_slider("Jahre", options=list(range(lo, hi + 1)), value=(max(lo, hi - 4), hi), key="lief_years")
        st_df = _status(data_stamp(), tuple(range(y0, y1 + 1)))
        st_df = _with_coverage(st_df, _coverage(data_stamp(), tuple(range(y0, y1 + 1))))
        open_ = st_df[st_df["status"] == "ausstehend"]
        part = int(st_df["unvollstaendig"].sum())
        st.markdown(f"**{len(open_)} von {len(st_df)}** vereinbarten Indikator-Jahren sind noch nicht geliefert"
                    + (f", **{part}** erst unvollständig" if part else "") + ". "
                    "✓ = vollständig (gelieferte / erwartete Sozialräume), ⚠ = unvollständig (ohne Wert für Stadt und "
                    "Stadtbezirke), – = ausstehend. Erwartet sind die Sozialräume, die in den drei Vorjahren geliefert haben.")
        for lf, grp in st_df.groupby("lieferant", sort=True):
            st.markdown(f"**{md(lf)}**")
            grid = grp.pivot(index="indikator", columns="jahr", values="Stand")
            grid.columns = [str(c) for c in grid.columns]
            st.dataframe(grid, width="stretch")

with tab_tpl:
    st.markdown("Die Vorlage enthält eine Anleitung, die erwarteten Spalten und Auswahllisten für Sozialraum und Kennzahl.")
    lfs = [""] + sorted(set(ingest.lieferstatus(get_con(), [])["lieferant"]) | set(_history(data_stamp())["lieferant"].dropna()))
    lf = st.selectbox("Nur die Kennzahlen dieses Lieferanten (optional)", lfs, key="tpl_lf")
    ui.template_button("tpl_lief", lf or None)

"""Streamlit glue for the pages "Daten-Import" and "Lieferungen": one uploaded file at a time."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import streamlit as st

from quartier import access, ingest
from quartier import format as fmt
from quartier.alerts import store as hinweis_store
from quartier.ingest.analysis import rule_label
from quartier.ingest.detect import LAYOUT_LABELS, ROLE_LABELS, SheetPlan
from quartier.ingest.pipeline import known_lieferanten
from quartier.ingest.planfile import PlanError, plan_json
from quartier.ingest.template import error_report_xlsx, findings_csv, write_template
from quartier.ingest.values import cell_text
from quartier.ui.common import data_stamp, get_con
from quartier.ui.session import current_actor
from quartier.ui.text import md
from quartier.uploads import read_book
from quartier.values import indicators

UPLOAD_TYPES = ["xlsx", "xlsm", "xls", "ods", "csv"]
STATE = "import_state"          # per file (sha256): lieferant, plans, accepted, result
STATUS_LABELS = {"neu": "neu", "geaendert": "geändert", "unveraendert": "unverändert"}
ROLE_BY_LABEL = {v: k for k, v in ROLE_LABELS.items()}
NONE = "–"  # shown for "no indicator / no year" in the mapping table
MAX_LISTED = 60  # findings listed as wrapping lines above the table
KIND_LABELS = {ingest.ERROR: "Fehler", ingest.WARNING: "Warnung", ingest.INFO: "Hinweis"}
FINDING_ICONS = {ingest.ERROR: ":material/error:", ingest.WARNING: ":material/warning:", ingest.INFO: ":material/info:"}


def _state(sha: str) -> dict:
    return st.session_state.setdefault(STATE, {}).setdefault(
        sha, {"plans": None, "accepted": {}, "result": None, "range": None})


def _analyse(stt: dict, stamp: int, data: bytes, name: str, lieferant: str | None, plans_json: str | None,
             accepted_json: str, range_json: str | None = None, gebietsstand: int | None = None) -> ingest.FileAnalysis:
    """The analysis of one uploaded file, kept in this session's state for that file only.

    Issue 20 (item 7): a process-wide ``st.cache_data`` with 20 entries kept up to 20 analyses of large files (and
    their keys) for every session, long after the files were removed. Now each session keeps exactly one analysis
    per file it currently shows (the latest mapping); :func:`forget_removed` drops it with the file.
    ``range_json``: a plan (:mod:`quartier.ingest.planfile`) with the header rows, first data row and excluded
    rows set on the page; ``plans_json``: sheets whose column mapping was edited (they win for their sheet).
    """
    key = (stamp, name, lieferant, plans_json, accepted_json, range_json, gebietsstand)
    cached = stt.get("analysis")
    if cached is not None and cached[0] == key:
        return cached[1]
    stt.pop("analysis", None)  # free the previous analysis before building the next one
    plans = {k: SheetPlan.from_dict(v) for k, v in json.loads(plans_json).items()} if plans_json else None
    accepted = {tuple(k.split("\x1f", 1)): v for k, v in json.loads(accepted_json).items()}
    kw = {"lieferant": lieferant, "plans": plans, "accepted": accepted,
          "plan_json": json.loads(range_json) if range_json else None}
    fa = ingest.analyse_file(get_con(), data, name, gebietsstand=gebietsstand, **kw)
    stt["bydate"] = None
    if gebietsstand is None:  # Issue 19: delivered on an earlier Gebietsstand, by its areas and years
        from quartier.ingest import bydate

        found = bydate.older_version(get_con(), data, name, fa, **kw)
        if found is not None:
            fa, stt["bydate"] = found.analysis, found.message
    stt["analysis"] = (key, fa)
    return fa


@st.cache_data(show_spinner=False, max_entries=8)
def _row_labels(data: bytes, name: str, sheet: str, area_col: int | None) -> dict[int, str]:
    """1-based row number -> the row's text in the area column (or its first text), for the exclude choice."""
    book = read_book(data, name)
    rows = next((sh.rows for sh in book.sheets if sh.name == sheet), [])
    out = {}
    for i, r in enumerate(rows):
        cells = [cell_text(v).strip() for v in r]
        text = cells[area_col] if area_col is not None and area_col < len(cells) else ""
        out[i + 1] = text or next((c for c in cells if c), "")
    return out


def latest_per_name(files) -> list:
    """One file per name, the newest: a corrected file uploaded under the same name replaces the earlier one's card
    (the uploader lists files in upload order). The card keeps the place of the first upload of that name."""
    by_name: dict = {}
    for f in files or []:
        by_name[f.name] = f
    return list(by_name.values())


def forget_removed(files) -> None:
    """Drop the state (and analysis) of every file that is no longer in the uploader."""
    states = st.session_state.get(STATE) or {}
    current = {_sha(f) for f in files or []}
    for sha in [k for k in states if k not in current]:
        del states[sha]


def _sha(uploaded) -> str:
    """sha256 of an uploaded file, computed once per upload (the file_id changes when the file is replaced)."""
    memo = st.session_state.setdefault("import_sha", {})
    fid = getattr(uploaded, "file_id", None) or uploaded.name
    if fid not in memo:
        if len(memo) > 50:
            memo.clear()
        memo[fid] = hashlib.sha256(uploaded.getvalue()).hexdigest()
    return memo[fid]


@st.cache_data(show_spinner=False)
def _indicators(stamp: int) -> dict[str, str]:
    rows = get_con().cursor().execute("SELECT id, name FROM indikator ORDER BY sortierung NULLS LAST, id").fetchall()
    return dict(rows)


@st.cache_data(show_spinner=False)
def _decimals(stamp: int) -> dict[str, int]:
    """Indicator id -> its decimals (catalogue ``dezimalstellen``, else by unit) for the preview."""
    return indicators.decimals(indicators.catalogue(get_con().cursor()))


def changes_table(ch: pd.DataFrame, decimals: dict[str, int]) -> pd.DataFrame:
    """The changed values of the preview, bisher → neu, each with its indicator's decimals (catalogue
    ``dezimalstellen``; an indicator not in the catalogue: 1)."""
    places = [decimals.get(str(i), 1) for i in ch["indikator_id"]]
    return pd.DataFrame({"Indikator": ch["indikator_id"], "Sozialraum": ch["sozialraum_id"], "Jahr": ch["jahr"],
                         "bisher": [fmt.number(x, d) for x, d in zip(ch["alt_wert"], places)],
                         "neu": [fmt.number(x, d) for x, d in zip(ch["wert"], places)],
                         "aus Lieferung": ch["alt_lieferung"].map(lambda x: f"#{int(x)}")})


def template_button(key: str, lieferant: str | None = None) -> None:
    st.download_button("Excel-Vorlage herunterladen", lambda: write_template(get_con(), lieferant=lieferant), on_click="ignore",
                       file_name="Quartier_Vorlage_Lieferung.xlsx", key=key, icon=":material/download:",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def render_file(uploaded, idx: int, replaced: int = 0) -> None:
    """Analysis, mapping, suggestions, preview and the confirm button for one uploaded file.

    ``replaced``: how many earlier uploads of the same name this file replaces (said on the card)."""
    data = uploaded.getvalue()
    sha = _sha(uploaded)
    stt = _state(sha)
    stamp = data_stamp()
    with st.container(border=True):
        st.subheader(f"Datei {idx + 1}: {md(uploaded.name)}")
        if replaced:
            st.caption("Ersetzt die zuvor hochgeladene Fassung dieser Datei (gleicher Name); geprüft wird nur die neue.")
        if stt["result"]:
            _show_result(stt["result"])
            return
        lieferanten = known_lieferanten(get_con())
        gs = _version_choice(sha)
        with st.spinner(f"{md(uploaded.name)} wird gelesen und geprüft …"):
            try:
                fa = _analyse(stt, stamp, data, uploaded.name, stt.get("lieferant"), stt["plans"], _accepted_json(stt),
                              stt.get("range"), gs)
            except PlanError as exc:  # a table range that does not fit the sheet: say so, go back to detection
                st.error(f"Tabellenbereich nicht anwendbar: {md(str(exc))}", icon=":material/error:")
                stt["range"] = None
                fa = _analyse(stt, stamp, data, uploaded.name, stt.get("lieferant"), stt["plans"], _accepted_json(stt),
                              None, gs)
        if gs is None and stt.get("bydate"):
            st.info(md(stt["bydate"]), icon=":material/layers:")
        if fa.duplicate:
            d = fa.duplicate
            st.warning(f"Diese Datei wurde bereits am {d['importiert_am']} von {md(d['importiert_von'])} importiert "
                       f"(Lieferung #{d['lieferung_id']}, „{md(d['dateiname'])}“). Es wird nichts geändert.",
                       icon=":material/content_copy:")
            return
        if not fa.readable:
            st.error(md(fa.errors[0].message), icon=":material/error:")
            return
        options = sorted(set(lieferanten) | ({fa.lieferant} if fa.lieferant else set()))
        _follow_detected_lieferant(fa, stt, sha)
        chosen = st.selectbox("Lieferant (liefernde Stelle)", options, index=None,
                              accept_new_options=True, key=f"lf_{sha}", placeholder="Stelle wählen oder eingeben",
                              help="Erkannt aus dem Dateinamen oder den gelieferten Indikatoren; eine gemerkte Spaltenzuordnung gilt je Lieferant.")
        if chosen and chosen != stt.get("lieferant") and chosen != fa.lieferant:
            stt["lieferant"] = chosen
            st.rerun()
        _mapping_editor(fa, stt, sha, data)
        _suggestions(fa, stt, sha)
        _preview(fa, data, sha)
        _confirm(fa, stt, sha, chosen or fa.lieferant)


def _version_choice(sha: str) -> int | None:
    """With more than one Gebietsstand: on which areas the file was delivered (Issue 19); None = today's."""
    from quartier.areas import versions

    vs = versions.versions(get_con())
    if len(vs) < 2:
        return None
    labels = {int(r["id"]): f"{r['name']} (gültig ab {r['gueltig_ab']:%d.%m.%Y})" + (" – aktuell" if r["aktuell"] else "")
              for r in vs.to_dict("records")}
    current = int(vs.loc[vs["aktuell"], "id"].iloc[0])
    choice = st.selectbox("Gebietsstand der Lieferung", list(labels), index=list(labels).index(current),
                          format_func=labels.get, key=f"gs_{sha}",
                          help="Auf welche Gebietsgliederung sich die Datei bezieht. Eine Lieferung auf einem früheren "
                               "Gebietsstand wird so gespeichert und auf die heutigen Sozialräume umgerechnet.")
    return None if choice is None or int(choice) == current else int(choice)


def _follow_detected_lieferant(fa: ingest.FileAnalysis, stt: dict, sha: str) -> None:
    """Until someone picks a Lieferant, the box shows what the latest analysis detected (it can change when
    a suggestion is accepted, the mapping or the table range changes)."""
    key = f"lf_{sha}"
    if not stt.get("lieferant") and fa.lieferant and (key not in st.session_state or stt.get("detected") != fa.lieferant):
        st.session_state[key] = fa.lieferant
    stt["detected"] = fa.lieferant


def _accepted_json(stt: dict) -> str:
    return json.dumps({f"{a}\x1f{t}": v for (a, t), v in stt["accepted"].items()}, sort_keys=True)


def _mapping_editor(fa: ingest.FileAnalysis, stt: dict, sha: str, data: bytes = b"") -> None:
    inds = _indicators(data_stamp())
    with st.expander("Erkannte Tabellen und Spaltenzuordnung (ändern, falls nötig)", expanded=bool(fa.errors)):
        if not fa.plans:
            st.write("Keine Tabelle erkannt.")
        for p in fa.plans:
            where = (f"Kopfzeile in Zeile {p.header_row + 1}" if p.header_rows == 1
                     else f"Kopfzeilen {p.header_row + 1}–{p.header_row + p.header_rows}")
            where += f", Daten ab Zeile {p.first_data_row + 1}"
            extra = []
            if p.indikator_id:
                extra.append(f"Indikator aus Blattname/Titel: {md(inds.get(p.indikator_id, p.indikator_id))}")
            if p.jahr:
                extra.append(f"Jahr aus Blattname/Titel: {p.jahr}")
            st.markdown(f"**Blatt „{md(p.sheet)}“** – Layout {LAYOUT_LABELS[p.layout]}; {where}" + ("; " + "; ".join(extra) if extra else ""))
            _range_form(fa, p, stt, sha, data)
            frame = pd.DataFrame([{"Spalte": c.letter, "Überschrift": c.header or "(leer)", "Zuordnung": ROLE_LABELS[c.role],
                                   "Indikator": c.indikator_id or NONE, "Jahr": str(c.jahr) if c.jahr else NONE,
                                   "Jahr aus": _source(c.jahr_quelle if c.jahr else p.jahr_quelle),
                                   "Indikator aus": _source(c.indikator_quelle if c.indikator_id else p.indikator_quelle)}
                                  for c in p.columns])
            edited = st.data_editor(
                frame, key=f"map_{sha}_{p.sheet}", hide_index=True, width="stretch",
                disabled=["Spalte", "Überschrift", "Jahr aus", "Indikator aus"],
                column_config={
                    "Zuordnung": st.column_config.SelectboxColumn("Zuordnung", options=list(ROLE_LABELS.values()), required=True),
                    "Indikator": st.column_config.SelectboxColumn("Indikator", options=[NONE] + list(inds),
                                                                  help="bei Spalten je Indikator (breit nach Indikator)"),
                    "Jahr": st.column_config.TextColumn("Jahr", help="bei Spalten je Jahr (breit nach Jahr), z. B. 2025",
                                                        validate=r"^(–|19[9]\d|20\d\d)$"),
                })
            changed = _edited_plan(p, edited)
            if changed is not None:
                plans = json.loads(stt["plans"]) if stt["plans"] else {}
                plans[p.sheet] = changed.to_dict()
                stt["plans"] = json.dumps(plans, sort_keys=True)
                st.rerun()
        if fa.plans:
            st.caption("Eine geänderte Zuordnung wird beim Übernehmen für diesen Lieferanten gemerkt.")


def _range_form(fa: ingest.FileAnalysis, p: SheetPlan, stt: dict, sha: str, data: bytes) -> None:
    """Header rows, first data row and rows not to read (e.g. totals), as detected; a change re-reads the sheet."""
    labels = _row_labels(data, fa.filename, p.sheet, p.area_col) if data else {}
    n_rows = max(labels, default=p.first_data_row + 1)
    data_rows = [r for r in labels if r > p.first_data_row]
    with st.form(f"rng_{sha}_{p.sheet}", border=False):
        st.markdown("Tabellenbereich (Zeilennummern wie in Excel):")
        c1, c2, c3 = st.columns(3)
        top = c1.number_input("Erste Kopfzeile", 1, n_rows, p.header_row + 1, key=f"rng_top_{sha}_{p.sheet}")
        last = c2.number_input("Letzte Kopfzeile", 1, n_rows, p.header_row + p.header_rows,
                               key=f"rng_last_{sha}_{p.sheet}",
                               help="Mehrzeilige Köpfe (Titel, Gruppenüberschrift, Namen, Beschreibungen) werden zusammen gelesen.")
        first = c3.number_input("Erste Datenzeile", 1, n_rows, p.first_data_row + 1, key=f"rng_first_{sha}_{p.sheet}")
        excl = st.multiselect(
            "Zeilen nicht lesen (z. B. Summen- oder Fußnotenzeilen)", data_rows, default=[r + 1 for r in p.exclude_rows
                                                                                        if r + 1 in data_rows],
            format_func=lambda r: f"Zeile {r}: {labels.get(r, '')}"[:80], key=f"rng_excl_{sha}_{p.sheet}_{p.first_data_row}",
            help="Summenzeilen erkennt Quartier meist selbst (Hinweis „Summenzeile“ im Prüfergebnis).")
        if not st.form_submit_button("Bereich anwenden", icon=":material/table_rows:"):
            return
    top, last, first = int(top), int(last), int(first)
    if not top <= last < first:
        st.error(f"Die Kopfzeilen ({top}–{last}) müssen über der ersten Datenzeile ({first}) liegen.", icon=":material/error:")
        return
    plan = plan_json(fa.filename, fa.plans)
    for sj in plan["sheets"]:
        if sj["sheet"] != p.sheet:
            continue
        if sj["header_rows"] != list(range(top, last + 1)) or sj["first_data_row"] != first:
            sj["columns"] = []                      # other header rows: the columns are read again
            sj["indicator"] = sj["year"] = sj["indicator_source"] = sj["year_source"] = None
        sj["header_rows"], sj["first_data_row"] = list(range(top, last + 1)), first
        sj["exclude_rows"] = sorted(int(r) for r in excl if int(r) >= first)
    plans = json.loads(stt["plans"]) if stt["plans"] else {}
    plans.pop(p.sheet, None)                        # the sheet's edited mapping belonged to the old range
    stt["plans"] = json.dumps(plans, sort_keys=True) if plans else None
    stt["range"] = json.dumps(plan, sort_keys=True)
    st.rerun()


def _source(key: str | None) -> str:
    from quartier.ingest.detect import SOURCE_LABELS

    return SOURCE_LABELS.get(key, key) if key else NONE


def _edited_plan(p: SheetPlan, edited: pd.DataFrame) -> SheetPlan | None:
    new = SheetPlan.from_dict(p.to_dict())
    diff = False
    for c, row in zip(new.columns, edited.to_dict("records")):
        role = ROLE_BY_LABEL.get(row["Zuordnung"], c.role)
        ind = None if row["Indikator"] in (None, "", NONE) or pd.isna(row["Indikator"]) else row["Indikator"]
        txt = "" if row["Jahr"] is None or pd.isna(row["Jahr"]) else str(row["Jahr"]).strip()
        year = int(txt) if txt.isdigit() else None
        if (role, ind, year) != (c.role, c.indikator_id, c.jahr):
            c.role, c.indikator_id, c.jahr = role, ind, year
            diff = True
    if diff:
        new.indikator_id = None if new.layout != p.layout else new.indikator_id
        return new
    return None


def _suggestions(fa: ingest.FileAnalysis, stt: dict, sha: str) -> None:
    if not fa.suggestions:
        return
    st.markdown("**Vorschläge für unbekannte Namen** – übernommene Vorschläge werden für künftige Lieferungen gemerkt.")
    for k, s in enumerate(fa.suggestions):
        art = "Sozialraum" if s["art"] == "sozialraum" else "Indikator"
        key = (s["art"], s["text"])
        if st.checkbox(f"{art} „{md(s['text'])}“ ist „{md(s['ziel'])}“ ({md(s['ziel_id'])}) – nur in dieser Datei", key=f"sug_{sha}_{k}"):
            if stt["accepted"].get(key) != s["ziel_id"]:
                stt["accepted"][key] = s["ziel_id"]
                st.rerun()
    for k, (key, ziel) in enumerate(sorted(stt["accepted"].items())):
        # the second confirmation: only then the spelling becomes an alias for every later file
        stt.setdefault("remember", set())
        if st.checkbox(f"„{md(key[1])}“ → {md(ziel)}: gilt für alle künftigen Dateien (als Alias merken)", key=f"rem_{sha}_{k}"):
            stt["remember"].add(key)
        else:
            stt["remember"].discard(key)


def _preview(fa: ingest.FileAnalysis, data: bytes, sha: str) -> None:
    c = fa.counts()
    cols = st.columns(4)
    for col, (label, n) in zip(cols, (("neu", c["new"]), ("geändert", c["changed"]), ("unverändert", c["unchanged"]),
                                      ("gesperrt", c["suppressed"]))):
        col.metric(f"Werte {label}", fmt.integer(n), border=True)
    if fa.lieferant or fa.berichtsjahr:
        st.caption(f"Berichtsjahr {fa.berichtsjahr or '–'} · {len(fa.values)} Werte aus {len(fa.plans)} Tabellenblatt/-blättern")
    ch = fa.changes()
    if len(ch):
        with st.expander(f"Geänderte Werte ({fmt.integer(len(ch))}): bisher → neu"):
            show = changes_table(ch, _decimals(data_stamp()))
            st.dataframe(show.head(500), hide_index=True, width="stretch")
    cov = fa.coverage()
    if not cov.empty:
        with st.expander("Abdeckung: gelieferte Sozialräume je Indikator und Jahr"):
            cov = cov.copy()
            names = _indicators(data_stamp())
            cov.index = [names.get(i, i) for i in cov.index]
            cov.index.name = "Indikator"
            cov.columns = [str(c) for c in cov.columns]
            st.caption("Zahl = gelieferte Sozialräume; 0 = für dieses Jahr nicht geliefert.")
            st.dataframe(cov, width="stretch")
    ff = fa.findings_frame()
    if len(ff):
        n_e, n_w = len(fa.errors), len(fa.warnings)
        st.markdown(f"**Prüfergebnis:** {n_e} Fehler, {n_w} Warnung(en), {len(fa.infos)} Hinweis(e)")
        _findings_list(fa)
        with st.expander("Prüfergebnis als Tabelle (sortieren, filtern)"):
            st.dataframe(ff.drop(columns=["Datei"]), hide_index=True, width="stretch",
                         column_config={"Meldung": st.column_config.TextColumn("Meldung", width="large")})
        d1, d2 = st.columns(2)
        stem = fa.filename.rsplit(".", 1)[0]
        # Built only when clicked (issue 20, item 7: the Excel report of a 1,000,000-row file was built on every run).
        d1.download_button("Prüfbericht als Excel (Zellen markiert)", lambda: error_report_xlsx(fa, data), on_click="ignore",
                           file_name=f"{stem}_Pruefbericht.xlsx", key=f"rep_x_{sha}", icon=":material/download:",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        d2.download_button("Prüfbericht als CSV", lambda: findings_csv(fa), on_click="ignore", file_name=f"{stem}_Pruefbericht.csv",
                           key=f"rep_c_{sha}", icon=":material/download:", mime="text/csv")
    else:
        st.success("Keine Auffälligkeiten gefunden.", icon=":material/check_circle:")


def _findings_list(fa: ingest.FileAnalysis) -> None:
    """Every finding as a line that wraps (a table cell cuts long messages off): kind, where, rule in German, message.

    Errors first, then warnings, then notes; at most ``MAX_LISTED`` lines, the rest in the table and the Prüfbericht."""
    order = [f for level in (ingest.ERROR, ingest.WARNING, ingest.INFO) for f in fa.findings if f.level == level]
    findings_lines([(f.level, f.sheet, f.cell, f.rule, f.message) for f in order], "Tabelle unten und Prüfbericht")


def findings_lines(rows: list[tuple], rest_where: str) -> None:
    """Findings ``(level, sheet, cell, rule, message)`` as markdown lines that wrap; at most ``MAX_LISTED``."""
    lines = []
    for level, sheet, cell, rule, message in rows[:MAX_LISTED]:
        where = ", ".join(x for x in (f"Blatt „{md(sheet)}“" if sheet else "", f"Zelle {md(cell)}" if cell else "") if x)
        lines.append(f"- {FINDING_ICONS[level]} **{KIND_LABELS[level]}**" + (f" · {where}" if where else "")
                     + f" · *{md(rule_label(rule or ''))}*: {md(message or '')}")
    if len(rows) > MAX_LISTED:
        lines.append(f"- … und {fmt.integer(len(rows) - MAX_LISTED)} weitere ({rest_where})")
    st.markdown("\n".join(lines))


def _confirm(fa: ingest.FileAnalysis, stt: dict, sha: str, lieferant: str | None) -> None:
    if fa.errors:
        st.error(f"{len(fa.errors)} Fehler: die Datei kann so nicht übernommen werden. Bitte die Fehler in der Datei beheben "
                 "(Prüfbericht herunterladen) oder die Zuordnung oben korrigieren und die Datei erneut hochladen.",
                 icon=":material/block:")
        return
    if fa.values.empty:
        return
    ok = True
    if fa.warnings:
        ok = st.checkbox(f"Ich habe die {len(fa.warnings)} Warnung(en) geprüft und möchte die Lieferung trotzdem übernehmen.",
                         key=f"warn_{sha}")
    if st.button("Lieferung übernehmen", type="primary", key=f"commit_{sha}", disabled=not ok or not lieferant,
                 icon=":material/task_alt:"):
        progress = st.progress(0.1, text="Werte werden in einer Transaktion geschrieben …")
        try:
            fa.remember = set(stt.get("remember") or ()) & set(fa.accepted)
            res = ingest.commit(get_con(), fa, current_actor(), confirm_warnings=ok, lieferant=lieferant)
        except (ingest.ImportRejected, access.PermissionDenied) as exc:
            progress.empty()
            st.error(md(exc), icon=":material/error:")
            return
        if res.get("status") == "imported":  # issue 18: the delivery's Hinweise, stored with it
            progress.progress(0.7, text="Hinweise der Lieferung werden berechnet …")
            res["hinweise"] = hinweis_store.record(get_con(), int(res["lieferung_id"]), actor=current_actor()).get("roh", 0)
        progress.progress(1.0, text="Fertig.")
        stt["result"] = res
        stt.pop("analysis", None)
        st.rerun()
    if not lieferant:
        st.caption("Bitte zuerst den Lieferanten wählen.")


def _show_result(res: dict) -> None:
    r = res["rows"]
    if res["status"] == "duplicate":
        st.info(f"Bereits importiert als Lieferung #{res['lieferung_id']}. Nichts geändert.", icon=":material/content_copy:")
        return
    st.success(f"Übernommen als Lieferung #{res['lieferung_id']} ({md(res.get('lieferant') or 'ohne Lieferant')}): "
               f"{fmt.integer(r['new'])} neu, {fmt.integer(r['changed'])} geändert, {fmt.integer(r['unchanged'])} unverändert, "
               f"{fmt.integer(r['suppressed'])} gesperrt. Rückgängig machen: Seite „Lieferungen“ › zurückziehen.",
               icon=":material/task_alt:")
    if res.get("hinweise") is not None:
        st.info(f"Die Lieferung hat {fmt.integer(res['hinweise'])} Hinweise ausgelöst (Klassenwechsel, Schwellen, "
                "Trendbrüche, auffällige Änderungen): Seite „Lieferungen“ › Lieferung ansehen.", icon=":material/notifications:")

"""Mein Bezirk: the district view for the Bezirksvertretung, with a presentation mode and the PDF report."""

import datetime as dt

import streamlit as st

from quartier.access import VIEWER, Actor
from quartier.reports import svgmap
from quartier.ui import hinweise as hinweise_ui
from quartier.ui import mein_bezirk as mb
from quartier.ui.common import attribution, city_name
from quartier.ui.guard import page_header
from quartier.ui.session import current_actor
from quartier.ui.text import md
from quartier.ui.widgets import catalogue, persist, set_shared_bezirk, shared_bezirk

actor = current_actor()
qp = st.query_params
bz = mb.bezirke()
names = dict(zip(bz["id"], bz["name"]))

# --- state from the URL (?bezirk=nord&praesentation=1&folie=2&seit=2026-03-01), then from the widgets.
# The state lives under store keys that no widget owns (S_*): Streamlit drops a widget's key in every run
# that does not draw the widget (the presentation mode hides the selectors), so callbacks and later runs
# read the stores, and the widgets are bound to them with widgets.persist().
# The district is shared with the other pages (widgets.STORE_BEZIRK, "None" there = whole city); this page
# always shows one district, so it keeps its own copy and takes the shared one whenever that names a district.
S_BEZIRK, S_PRAES, S_SEIT, S_FOLIE = "mb:bezirk", "mb:praes", "mb:seit", "mb:folie"
state = st.session_state
if shared_bezirk() in names:
    state[S_BEZIRK] = shared_bezirk()
url_bezirk = qp.get(mb.QP_BEZIRK)
if url_bezirk and url_bezirk != state.get("mb:url_seen"):
    state["mb:url_seen"] = url_bezirk
    found = mb.scope_from_param(url_bezirk)
    if found:
        state[S_BEZIRK] = found
        set_shared_bezirk(found)
    else:
        state["mb_unknown"] = url_bezirk
if state.get(S_BEZIRK) not in names and names:
    state[S_BEZIRK] = next(iter(names))
if S_PRAES not in state:
    state[S_PRAES] = qp.get(mb.QP_PRAES, "") in ("1", "ja", "true")
if S_SEIT not in state:
    seit = None
    for f in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            seit = dt.datetime.strptime(qp.get(mb.QP_SEIT, ""), f).date()
            break
        except ValueError:
            pass
    state[S_SEIT] = seit or (dt.date.today() - dt.timedelta(days=90))
if S_FOLIE not in state:
    try:
        state[S_FOLIE] = max(int(qp.get(mb.QP_FOLIE, "1")) - 1, 0)
    except ValueError:
        state[S_FOLIE] = 0

bezirk_id = state.get(S_BEZIRK)
present = bool(state[S_PRAES])
page_header(f"Mein Bezirk – {names.get(bezirk_id, '')}".rstrip(" –"),
            None if present else "Der eigene Stadtbezirk auf einen Blick: Karte, Kennzahlen im Vergleich zur Stadt, "
                                 "Sozialräume nach Handlungsbedarf, Entwicklung und Handlungsempfehlungen. "
                                 "Für Sitzungen: Präsentationsmodus (große Schrift, eine Folie je Thema) und Bericht als PDF.")
if not names:
    st.warning("Noch keine Stadtbezirke eingerichtet. Bitte `python -m quartier demo` oder `python -m quartier init` ausführen.")
    st.stop()
if state.pop("mb_unknown", None) is not None:
    st.warning(f"Den Stadtbezirk „{md(url_bezirk)}“ gibt es nicht. Möglich sind: {md(', '.join(names.values()))}.")


def _sync_url() -> None:
    set_shared_bezirk(state[S_BEZIRK])
    st.query_params[mb.QP_BEZIRK] = state[S_BEZIRK]
    state["mb:url_seen"] = state[S_BEZIRK]
    if state[S_PRAES]:
        st.query_params[mb.QP_PRAES] = "1"
        st.query_params[mb.QP_FOLIE] = str(state[S_FOLIE] + 1)
    else:
        for k in (mb.QP_PRAES, mb.QP_FOLIE):
            if k in st.query_params:
                del st.query_params[k]


def _sync_since() -> None:
    st.query_params[mb.QP_SEIT] = state[S_SEIT].isoformat() if state[S_SEIT] else ""


def _step(delta: int) -> None:
    state[S_FOLIE] = min(max(state[S_FOLIE] + delta, 0), state.get("mb:n_folien", len(mb.SLIDES)) - 1)
    _sync_url()


def _stop_presenting() -> None:
    state[S_PRAES] = False
    _sync_url()


if not present:
    c1, c2, c3 = st.columns([2, 1.4, 1.2], vertical_alignment="bottom")
    c1.selectbox("Stadtbezirk", list(names), format_func=names.get, **persist(S_BEZIRK, "mb_bezirk", _sync_url))
    c2.date_input("Letzte Sitzung (Änderungen seit)", format="DD.MM.YYYY", max_value=dt.date.today(),
                  **persist(S_SEIT, "mb_seit", _sync_since))
    c3.toggle("Präsentationsmodus", **persist(S_PRAES, "mb_praes", _sync_url),
              help="Große Schrift, hoher Kontrast, eine Folie je Thema; weiter mit der Pfeiltaste → oder dem Knopf „Weiter“.")
    if qp.get(mb.QP_BEZIRK) != state[S_BEZIRK]:
        st.query_params[mb.QP_BEZIRK] = state[S_BEZIRK]

bezirk_id = state[S_BEZIRK]
since = state[S_SEIT]
sm = mb.summary(bezirk_id, actor, since)
scope = sm.scope
md = mb.map_data(bezirk_id, actor, sm.values)
since_text = since.strftime("%d.%m.%Y") if since else None


def show_map(height: int, big: bool = False) -> None:
    """The district map with legend and description (on a slide: beside the map, so that it fits 720 px)."""
    left, right = st.columns([2.2, 1]) if big else (st.container(), st.container())
    left.pydeck_chart(mb.map_deck(bezirk_id, actor, md, scope, height, label_size=18 if big else None), height=height,
                      key=f"mb_map_{height}",
                      alt=f"Karte des Stadtbezirks {scope.name}; die Beschreibung steht "
                          + ("neben" if big else "unter") + " der Karte.")
    right.markdown(mb.legend_html(md, big), unsafe_allow_html=True)
    right.markdown(svgmap.map_text(md, scope))


def show_recommendations(big: bool = False, rows: tuple[int, int] | None = None) -> None:
    recs = sm.recommendations
    if sm.recommendations_note:
        st.info(sm.recommendations_note)
        return
    if recs.empty:
        st.write("Für diesen Stadtbezirk sind keine Handlungsempfehlungen erfasst.")
        return
    n_changed = int(recs["geaendert_seit"].sum())
    st.markdown(f"**{len(recs)} Handlungsempfehlungen** für die Sozialräume des Bezirks und die ganze Stadt; "
                f"**{n_changed} seit der letzten Sitzung ({since_text}) geändert**.")
    table = mb.recommendations_table(recs, since)
    if big:
        changed_first = table.iloc[recs.sort_values(["geaendert_seit", "id"], ascending=[False, True]).index]
        if rows is not None:
            changed_first = changed_first.iloc[rows[0]:rows[1]]
        st.markdown(mb.html_table(changed_first.drop(columns=["Handlungsfeld"])), unsafe_allow_html=True)
    else:
        only = st.checkbox("nur seit der letzten Sitzung geänderte zeigen", key="mb_nur_geaendert")
        st.dataframe(table[recs["geaendert_seit"].to_numpy()] if only else table, hide_index=True, width="stretch")


def show_development(big: bool = False, part: int = 0) -> None:
    """The development chart and its table; on a slide (``big``) part 0 is the chart, part 1 the table."""
    cat = catalogue().set_index("id")
    ids = list(dict.fromkeys(sm.development["indikator_id"]))
    if not ids:
        st.write("Noch keine Zeitreihen vorhanden.")
        return
    if big:
        iid = ids[0]
    else:
        iid = st.selectbox("Indikator", ids, format_func=lambda i: cat.loc[i, "name"], key="mb_entw")
    table = mb.development_table(sm.development, iid, years=5 if big else None)
    if big and part == 1:
        st.markdown(f"**{cat.loc[iid, 'name']}**")
        st.markdown(mb.html_table(table, numeric=tuple(c for c in table.columns if c != "Gebiet")), unsafe_allow_html=True)
        return
    st.vega_lite_chart(spec=mb.development_spec(bezirk_id, actor, since, iid, big), width="content",
                       height=(270 if big else 300) + 80,
                       alt=f"Liniendiagramm {cat.loc[iid, 'name']} über die Jahre; die Werte stehen in der Tabelle"
                           + (" auf der nächsten Folie." if big else "."))
    if not big:
        with st.expander("Tabelle: Werte je Jahr", expanded=False):
            st.dataframe(table, hide_index=True, width="stretch")
            note = mb.realloc_note(sm.development[sm.development["indikator_id"] == iid])
            if note:  # values of an earlier Gebietsstand (Issue 19)
                st.caption(f":material/layers: {note}")


if present:
    st.markdown(mb.PRESENTATION_CSS + mb.CARD_CSS, unsafe_allow_html=True)
    slides = mb.slide_deck({"Sozialräume nach Handlungsbedarf": len(sm.ranking), "Entwicklung": 2,
                            "Handlungsempfehlungen": 0 if sm.recommendations_note else len(sm.recommendations)})
    state["mb:n_folien"] = len(slides)
    k = state[S_FOLIE] = min(state[S_FOLIE], len(slides) - 1)
    topic, first, last = slides[k]
    nav = st.columns([1.1, 3, 1.1, 1.5], vertical_alignment="center")
    nav[0].button("◀ Zurück", key="mb_prev", on_click=_step, args=(-1,), disabled=k == 0, shortcut="Left",
                  width="stretch")
    nav[1].markdown(f"**Folie {k + 1} von {len(slides)}: {mb.slide_title(slides, k)}**")
    nav[2].button("Weiter ▶", key="mb_next", on_click=_step, args=(1,), disabled=k == len(slides) - 1,
                  shortcut="Right", width="stretch")
    nav[3].button("Präsentation beenden", key="mb_end", on_click=_stop_presenting, width="stretch")
    st.markdown(f"## {mb.slide_title(slides, k)} – Stadtbezirk {scope.name}")
    if topic == mb.SLIDES[0]:
        show_map(380, big=True)
    elif topic == mb.SLIDES[1]:
        st.markdown(mb.cards_html(sm.headline, scope.name, big=True), unsafe_allow_html=True)
        st.markdown(f"Farbe **und** Text zeigen die Bewertung: günstig (blau), ungünstig (orange). "
                    f"Vergleich mit der Stadt {city_name()}.")
    elif topic == mb.SLIDES[2]:
        st.markdown(sm.ranking_note)
        st.markdown(mb.html_table(mb.ranking_table(sm.ranking).iloc[first:last], numeric=("Rang",)),
                    unsafe_allow_html=True)
    elif topic == mb.SLIDES[3]:
        show_development(big=True, part=first)
    else:
        show_recommendations(big=True, rows=(first, last))
    st.caption("Tastatur: Pfeil rechts = weiter, Pfeil links = zurück.")
else:
    st.markdown(mb.CARD_CSS, unsafe_allow_html=True)
    st.subheader("Karte")
    show_map(480)
    st.subheader(f"Kennzahlen: {scope.name} im Vergleich zur Stadt")
    st.markdown(mb.cards_html(sm.headline, scope.name), unsafe_allow_html=True)
    st.caption("Pfeil und Text zeigen die Veränderung gegenüber dem Vorjahr; „günstig“/„ungünstig“ folgt der Richtung "
               "des Indikators (sinkt ein Wert, bei dem ein höherer Wert mehr Bedarf bedeutet, ist das günstig). Bezirks- und Stadtwerte aus der Summe der "
               "Zähler und Nenner; „•“ = zum Schutz kleiner Fallzahlen gesperrt.")
    hinweise_ui.section_choice(actor, bezirk=bezirk_id, key="mb_hw")
    st.subheader("Sozialräume nach Handlungsbedarf")
    st.caption(sm.ranking_note)
    st.dataframe(mb.ranking_table(sm.ranking), hide_index=True, width="stretch")
    if mb.realloc_note(sm.ranking):  # values of an earlier Gebietsstand (Issue 19)
        st.caption(f":material/layers: {mb.realloc_note(sm.ranking)}")
    st.subheader("Entwicklung über die Jahre")
    show_development()
    st.subheader("Handlungsempfehlungen")
    show_recommendations()
    st.subheader("Angebote im Bezirk")
    st.dataframe(mb.offers_table(bezirk_id, actor), hide_index=True, width="stretch", key="mb_angebote")
    st.subheader("Bezirksbericht")
    pdf_actor = actor
    if actor.can_see_raw:
        protect = st.checkbox("Für Gremien: kleine Fallzahlen sperren (wie für Betrachtende)", value=True,
                              key="mb_pdf_schutz",
                              help="Ohne Sperre enthält der Bericht Werte aus kleinen Fallzahlen und ist auf jeder "
                                   "Seite als „Interner Bericht“ gekennzeichnet.")
        if protect:
            pdf_actor = Actor(actor.name, VIEWER)
    st.download_button(
        "Bezirksbericht als PDF herunterladen", data=lambda: mb.pdf_bytes(bezirk_id, pdf_actor, since),
        file_name=f"bezirksbericht_{bezirk_id}_{dt.date.today():%Y-%m-%d}.pdf", mime="application/pdf",
        icon=":material/picture_as_pdf:", key="mb_pdf",
        help="A4, mit Karte, Kennzahlen, Grafiken, Handlungsempfehlungen, Datenstand und Definitionen. "
             "Die Erstellung dauert einige Sekunden.",
    )
    attribution()

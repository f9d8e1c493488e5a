"""Stored and reflected Markdown/HTML injection (issue 20, item 4): editor text and URL parameters render as text.

An editor stores HTML in "Federführung" and Markdown links/images in a "Begründung"; a link puts Markdown into the
bezirk parameter of "Mein Bezirk". Every rendered Markdown element must show the text escaped: no live tag, link or image.
"""

from __future__ import annotations

import re

from quartier import db
from quartier.access import EDITOR, VIEWER, Actor
from quartier.actions import store
from quartier.ui.session import ACTOR_KEY
from quartier.ui.text import html_text, md

EVIL_HTML = ('<div style="position:fixed;inset:0;background:#fff">Sitzung abgelaufen: '
             '<a href="https://evil.example/login">hier neu anmelden</a><img src="https://evil.example/p.png"></div>')
EVIL_MD = "Abgestimmt, siehe [hier neu anmelden](https://evil.example/login) ![x](https://evil.example/p.png) www.evil.example"
VIEWER_SESSION = {ACTOR_KEY: Actor("betrachtung", VIEWER)}
# what a live link, image or tag looks like in the Markdown source Streamlit renders
LIVE = re.compile(r"(?<![\\])<(a|img)\b|(?<![\\])<div style=.position|(?<!\\)\]\(|(?<!\\)!\[|https?://evil|(?<!\\)www\.evil")


def _poison(path) -> None:
    con = db.connect(path)
    try:
        store.update(con, Actor("m.schneider", EDITOR), "HE-01", {"federfuehrung": EVIL_HTML}, justification=EVIL_MD)
    finally:
        con.close()


def _rendered(at) -> list[str]:
    return ([m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.subheader]
            + [w.value for w in at.warning] + [e.value for e in at.error] + [i.value for i in at.info])


def _assert_no_live_markup(texts: list[str]) -> None:
    live = [t for t in texts if LIVE.search(t)]
    assert not live, live


def test_federfuehrung_html_is_escaped_on_wirkungsblick(run_page, app_db):
    _poison(app_db)
    at = run_page("views/wirkungsblick.py", query={"id": "HE-01"}, session=VIEWER_SESSION)
    assert not at.exception
    texts = _rendered(at)
    assert any(html_text(EVIL_HTML) in t for t in texts), "the Federführung must still be shown, as text"
    _assert_no_live_markup(texts)


def test_begruendung_and_federfuehrung_are_escaped_in_the_detail(run_page, app_db):
    _poison(app_db)
    at = run_page("views/empfehlungen.py", query={"id": "HE-01"}, session={ACTOR_KEY: Actor("m.schneider", EDITOR)})
    assert not at.exception
    texts = _rendered(at)
    assert any(md(EVIL_MD) in t for t in texts), "the Begründung must be shown in the history, escaped"
    assert any(md(EVIL_HTML) in t for t in texts), "the Federführung must be shown in the facts, escaped"
    _assert_no_live_markup(texts)


def test_bezirk_parameter_cannot_put_a_link_into_the_warning(run_page):
    evil = "[hier neu anmelden](https://evil.example/login)"
    at = run_page("views/mein_bezirk.py", query={"bezirk": evil}, session=VIEWER_SESSION)
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any(md(evil) in w for w in warnings), warnings
    _assert_no_live_markup(_rendered(at))


def test_unknown_sozialraum_parameter_is_escaped(run_page):
    evil = "![x](https://evil.example/p.png)"
    at = run_page("views/sozialraeume.py", query={"sr": evil}, session=VIEWER_SESSION)
    assert not at.exception
    assert any(md(evil) in w.value for w in at.warning), [w.value for w in at.warning]
    _assert_no_live_markup(_rendered(at))


def test_md_and_html_text_leave_no_syntax():
    for s in (EVIL_HTML, EVIL_MD, "- Liste\n1. eins\n===\n> Zitat\n:red[rot] $x$ `code` a@b.example"):
        assert not LIVE.search(md(s))
        assert not LIVE.search(html_text(s))
        assert "<" not in html_text(s).replace("<br>", "") and "\n" not in html_text(s)
    assert md("- a\n1. b").startswith("\\- a") and "1\\. b" in md("- a\n1. b")

"""Escaping of user-, URL- and database-supplied text before it reaches Markdown or HTML.

Every string a person can influence (titles, Federführung, Begründung, names, file and sheet names, query parameters,
messages that quote a cell) goes through one of these two functions before it is interpolated into st.markdown,
st.caption, st.info/warning/error/success or an HTML snippet: no link, image, HTML tag, heading, list or colour directive
can come from data, and no external image can load.
"""

from __future__ import annotations

import re

# ASCII punctuation that starts or ends Markdown syntax anywhere in a line (CommonMark, Streamlit's :color[...]
# directives and $...$ LaTeX). CommonMark allows a backslash before any ASCII punctuation.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|<>~$&^])")
# Characters that are syntax only at the start of a line (lists, setext headings, rules).
_MD_LINE_START = re.compile(r"^(\s*)([-+=])", re.MULTILINE)
_MD_ORDERED = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)
# GFM autolinks ("https://…", "www.…", "name@host.tld") are found in the text *after* parsing, where escapes and
# character references are already decoded: only a character inside the pattern stops them. An invisible word
# joiner (U+2060) goes after "://"'s colon, after "www" and after "@" (checked in the browser, tests/e2e/test_injection.py).
_AUTOLINK = re.compile(r"(:)(?=//)|(www)(?=\.)|(@)", re.IGNORECASE)
_WJ = "\u2060"
# In HTML the same characters become numeric character references: safe in an HTML block, and where Streamlit's
# Markdown parser sees the text they decode to plain characters, not syntax. Line breaks become <br>, so no
# line-start syntax can come from the text.
_HTML_SPECIAL = {ord(c): f"&#{ord(c)};" for c in "&<>\"'`*_[]|~$^\\"}


def _text(value: object) -> str:
    if value is None:
        return ""
    return str(value).replace("\r\n", "\n").replace("\r", "\n")


def _no_autolink(text: str) -> str:
    return _AUTOLINK.sub(lambda m: m.group(0) + _WJ, text)


def md(value: object) -> str:
    """`value` as literal text inside Markdown: every special character backslash-escaped, line breaks kept."""
    text = _MD_SPECIAL.sub(r"\\\1", _text(value))
    text = _MD_ORDERED.sub(r"\1\\\2", text)
    text = _MD_LINE_START.sub(r"\1\\\2", text)
    return _no_autolink(text).replace("\n", "  \n")


def html_text(value: object) -> str:
    """`value` as literal text inside HTML that Streamlit renders through Markdown (unsafe_allow_html=True)."""
    return _no_autolink(_text(value).translate(_HTML_SPECIAL)).replace("\n", "<br>")

"""Tolerant name matching: case, spaces, hyphen/slash variants and umlauts written as ae/oe/ue/ss."""

from __future__ import annotations

import re
import unicodedata

_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e"}


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize(text: object) -> str:
    s = str(text or "").strip().lower()
    for k, v in _UMLAUTS.items():
        s = s.replace(k, v)
    if not s.isascii():  # accents apart from their letters (é -> e + accent); the accents go with all other signs below
        s = unicodedata.normalize("NFKD", s)
    return _NOT_ALNUM.sub("", s)

"""Tolerant name matching: case, spaces, hyphen/slash variants and umlauts written as ae/oe/ue/ss."""

from __future__ import annotations

import re
import unicodedata

_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e"}


def normalize(text: object) -> str:
    s = str(text or "").strip().lower()
    for k, v in _UMLAUTS.items():
        s = s.replace(k, v)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "", s)

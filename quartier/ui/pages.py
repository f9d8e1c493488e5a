"""The page registry: every page that works, with its navigation section.

Each entry: (file, title, icon, section, url_path, min_role=VIEWER). ``app.py`` builds ``st.navigation`` from it and
the smoke tests run every entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from quartier.access import ADMIN, EDITOR, VIEWER  # noqa: F401 - EDITOR for staff pages


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    icon: str
    section: str
    url_path: str
    min_role: str = VIEWER  # the navigation shows a page only to this role and above


PAGES: list[PageSpec] = [
    PageSpec("views/uebersicht.py", "Übersicht", ":material/home:", "Überblick", "uebersicht"),
    PageSpec("views/mein_bezirk.py", "Mein Bezirk", ":material/location_city:", "Überblick", "mein-bezirk"),
    PageSpec("views/sozialraeume.py", "Sozialräume", ":material/query_stats:", "Analysen", "sozialraeume"),
    PageSpec("views/karte.py", "Karte", ":material/map:", "Analysen", "karte"),
    PageSpec("views/handlungsbedarf.py", "Handlungsbedarf", ":material/priority_high:", "Analysen", "handlungsbedarf"),
    PageSpec("views/angebote.py", "Angebote", ":material/family_restroom:", "Analysen", "angebote"),
    PageSpec("views/empfehlungen.py", "Handlungsempfehlungen", ":material/checklist:", "Umsetzung", "empfehlungen"),
    PageSpec("views/umsetzungsstand.py", "Umsetzungsstand", ":material/stacked_bar_chart:", "Umsetzung", "umsetzungsstand"),
    PageSpec("views/wirkungsblick.py", "Wirkungsblick", ":material/trending_down:", "Umsetzung", "wirkungsblick"),
    PageSpec("views/daten_import.py", "Daten-Import", ":material/upload_file:", "Daten", "daten-import", EDITOR),
    PageSpec("views/lieferungen.py", "Lieferungen", ":material/inventory_2:", "Daten", "lieferungen", EDITOR),
    PageSpec("views/gebietsstaende.py", "Gebietsstände", ":material/layers:", "Daten", "gebietsstaende", EDITOR),
    PageSpec("views/audit.py", "Audit-Log", ":material/history:", "Verwaltung", "audit", ADMIN),
    PageSpec("views/benutzer.py", "Benutzer und Sicherheit", ":material/manage_accounts:", "Verwaltung", "benutzer", ADMIN),
]

"""Angebote und Versorgung: offers for children and families, their reach and the supply per Sozialraum.

Modules: :mod:`catalogue` (categories), :mod:`store` (reading offers, network, scenarios),
:mod:`importer` (Excel/CSV/GeoJSON with preview, all or nothing), :mod:`supply` (figures and reach per area),
:mod:`locate` (location suggestion, maximal covering), :mod:`template` (template and export).
"""

"""The importer for the yearly Excel/CSV deliveries: read -> detect -> map -> validate -> diff -> commit.

Use :func:`analyse_file` to look at a file (nothing is written) and :func:`commit` to write it as one
``lieferung`` in a single transaction. The page "Daten-Import" and ``python -m quartier import`` both
call these functions.
"""

from quartier.ingest.analysis import ERROR, INFO, WARNING, FileAnalysis, Finding
from quartier.ingest.compare import compare
from quartier.ingest.detect import LAYOUT_LABELS, ROLE_LABELS, ROLES, ColumnSpec, SheetPlan
from quartier.ingest.pipeline import analyse
from quartier.ingest.pipeline import analyse_and_compare as analyse_file
from quartier.ingest.store import (
    ImportRejected,
    accept_suggestion,
    commit,
    history,
    lieferstatus,
    report_of,
    withdraw,
)
from quartier.uploads import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES, FileRejected

__all__ = [
    "ALLOWED_SUFFIXES", "ERROR", "INFO", "LAYOUT_LABELS", "MAX_UPLOAD_BYTES", "ROLES", "ROLE_LABELS", "WARNING",
    "ColumnSpec", "FileAnalysis", "FileRejected", "Finding", "ImportRejected", "SheetPlan", "accept_suggestion",
    "analyse", "analyse_file", "commit", "compare", "history", "lieferstatus", "report_of", "withdraw",
]

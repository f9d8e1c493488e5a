"""Altair charts on a page: the Vega-Lite spec Streamlit sends for ``st.altair_chart``, without validating
the chart against the Vega-Lite JSON schema on every run (most of the cost of a chart in a warm run).

The charts come from our own builders, whose specs the unit tests validate; the page gets the same spec
(data as Arrow bytes, Streamlit's theme handling) as with ``st.altair_chart``.
"""

from __future__ import annotations

import streamlit as st


class _Unvalidated:
    """Hands Streamlit's converter the chart's dict built without the schema check."""

    def __init__(self, chart):
        self._chart = chart

    def to_dict(self, *args, **kwargs) -> dict:
        return self._chart.to_dict(validate=False)


def spec_of(chart) -> dict:
    """The Vega-Lite spec (datasets as Arrow bytes) that ``st.altair_chart(chart)`` would send."""
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

    return _convert_altair_to_vega_lite_spec(_Unvalidated(chart))  # type: ignore[arg-type]


def altair_chart(chart, container=None, **kwargs) -> None:
    """``st.altair_chart(chart, **kwargs)`` (no selections) through :func:`spec_of`."""
    (container or st).vega_lite_chart(spec=spec_of(chart), **kwargs)

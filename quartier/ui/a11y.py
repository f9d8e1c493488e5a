"""Accessibility repairs for Streamlit's own markup.

With navigation sections, Streamlit 1.67 renders ``<ul>`` > ``<div>`` (section) > ``<li>``: invalid list
markup (axe rules "list"/"listitem", WCAG 1.3.1). The navigation stays a set of links under section
headings; the broken list semantics are removed (role="none") whenever the sidebar is (re)rendered.
"""

from __future__ import annotations

import streamlit as st

_SCRIPT = """
<script>
(() => {
  if (window.__quartierNavFix) { window.__quartierNavFix(); return; }
  const fix = () => document.querySelectorAll('[data-testid="stSidebarNavItems"]').forEach((ul) => {
    if (ul.getAttribute('role') !== 'none') ul.setAttribute('role', 'none');
    ul.querySelectorAll('li').forEach((li) => { if (li.getAttribute('role') !== 'none') li.setAttribute('role', 'none'); });
  });
  window.__quartierNavFix = fix;
  fix();
  new MutationObserver(fix).observe(document.body, {childList: true, subtree: true});
})();
</script>
"""


def fix_nav_semantics() -> None:
    st.html(_SCRIPT, unsafe_allow_javascript=True, width="content")

"""Quartier-Server: Streamlit's ASGI app (``st.App``) for ``app.py`` plus the routes of the login cookie.

Start with ``streamlit run server.py`` (``make run``); ``streamlit run app.py`` runs the same app without the
session cookie (a login then lasts for one browser tab). See quartier/ui/login_cookie.py.
"""

import streamlit as st

from quartier.ui.login_cookie import routes

app = st.App("app.py", routes=routes())

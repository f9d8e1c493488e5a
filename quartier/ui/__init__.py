"""Streamlit glue: cached connection, cached loaders, shared widgets. The only place importing streamlit."""

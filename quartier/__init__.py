"""Quartier: Entscheidungsunterstützung für die Jugendhilfeplanung (Kern ohne Streamlit)."""

__version__ = "0.1.0"

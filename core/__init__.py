"""Mitoshi core: everything that can be imported and tested without Streamlit."""

__version__ = "0.1.0"

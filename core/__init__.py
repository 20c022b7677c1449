"""Mitoshi core: everything that can be imported and tested without Streamlit."""

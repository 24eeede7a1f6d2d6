"""The DuckDB layer: schema, migrations and every query, as plain functions over a `Database`.

Nothing in this package imports Streamlit.
"""
from store.db import Database, DatabaseLockedError, PermissionDenied, StoreError, open_database

__all__ = ["Database", "DatabaseLockedError", "PermissionDenied", "StoreError", "open_database"]

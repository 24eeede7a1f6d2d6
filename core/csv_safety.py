"""CSV cells that a spreadsheet would run as a formula, made inert (CSV injection).

Item text, notes, project names and hazard categories come from people and files; opened in
Excel or LibreOffice, a CSV cell that begins with `=`, `+`, `-` or `@` is evaluated as a
formula (`=HYPERLINK(...)`, `=cmd|' /C calc'!A0`, `@SUM(...)`), and so is one that begins with
a tab or a carriage return followed by one. OWASP's rule ("CSV Injection"): prefix such a
cell with a single quote, which spreadsheets read as "this cell is text".

Only text cells are touched: a number column keeps `-3` as the number it is, and JSONL and
Parquet files keep every value exactly as stored (no spreadsheet evaluates them). The rule is
written once here, as a Python function for pandas tables and as a DuckDB expression for
exports written by `COPY`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:    # pandas is imported only when a table is written: the CLI starts faster
    import pandas as pd

# The first characters that make a spreadsheet treat a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def neutralise_cell(value: Any) -> Any:
    """`value` with a leading `'` when it is text starting like a formula; anything else as
    it is (numbers, dates, None)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return ESCAPE + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` for writing as CSV: text columns neutralised cell by cell, other
    columns (numbers, dates, booleans) unchanged."""
    import pandas as pd

    out = df.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.map(neutralise_cell, na_action="ignore")
    return out


def neutralise_sql(expr: str) -> str:
    """The same rule as a DuckDB expression over a VARCHAR expression `expr` (NULL stays
    NULL)."""
    starts = ", ".join("chr(%d)" % ord(c) for c in FORMULA_STARTS)
    return (f"(CASE WHEN left({expr}, 1) IN ({starts}) THEN chr({ord(ESCAPE)}) || {expr}"
            f" ELSE {expr} END)")

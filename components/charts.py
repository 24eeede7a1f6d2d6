"""Dashboard building blocks: a plotly chart with its table and a CSV download under it.

Figures are built with plotly.graph_objects from plain lists, not with plotly express: on
this 2-core machine express takes 70-100 ms per figure, the same figure built here under
10 ms, and the dashboard draws 17 charts within its one-second budget (PRODUCT.md,
"Performance targets"; bench/bench_dashboard.py).
"""
from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import date, datetime

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.csv_safety import neutralise_frame

NO_DATA = "No data for these filters yet."


def privacy_hidden(min_group: int) -> str:
    """What an empty team panel says when it is empty for privacy, not for want of data."""
    return f"hidden: fewer than {min_group} people in this group (privacy)"
DAY_AXIS = "day (UTC)"
SHORT_DAY_FORMAT, LONG_DAY_FORMAT = "%b %d", "%Y-%m-%d"   # "Nov 27"; with the year past ~300 days
# How date and time columns read in tables (CSV downloads keep the full values).
_COLUMN_FORMATS = {
    "day": st.column_config.DateColumn(format="YYYY-MM-DD"),
    "eta_date": st.column_config.DateColumn("eta date", format="YYYY-MM-DD"),
    "checked_at": st.column_config.DatetimeColumn("checked at", format="YYYY-MM-DD HH:mm"),
    "last_break_at": st.column_config.DatetimeColumn("last break", format="YYYY-MM-DD HH:mm"),
}


def _figure(traces: list[dict], title: str, x_title: str, y_title: str,
            legend_title: str | None = None, **layout) -> go.Figure:
    """One figure, built in a single constructor call from plain lists and dicts: plotly
    validates pandas columns and later `update_layout` calls far more slowly."""
    for axis, text in (("xaxis", x_title), ("yaxis", y_title)):
        layout[axis] = {**layout.get(axis, {}), "title": {"text": text}}
    return go.Figure(data=traces, layout={
        "title": {"text": title}, "legend": {"title": {"text": legend_title or ""}},
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "height": 340, **layout})


def _values(column: pd.Series) -> list:
    """Plain Python values; NaN becomes None (no bar or point); text made literal."""
    return [_literal(v) for v in column.astype(object).where(column.notna(), None).tolist()]


def _literal(value):
    """Plotly reads a few HTML tags and entities in labels (<b>, <a href=...>, &lt;): escape
    text that came from people (project names, usernames, categories) so it shows as typed."""
    return html.escape(value, quote=False) if isinstance(value, str) else value


def day_labels(days: Sequence[date] | pd.Series, fmt: str = LONG_DAY_FORMAT) -> list[str]:
    return [pd.Timestamp(day).strftime(fmt) for day in days]


def bars(df: pd.DataFrame, x: str, y: str, title: str, x_title: str, y_title: str,
         color: str | None = None, legend_title: str | None = None, stacked: bool = False,
         horizontal: bool = False, categorical_x: bool = False,
         days: Sequence[date] | None = None) -> go.Figure:
    """A bar chart, one trace per value of `color` (or a single trace).

    With `days`, x is a day column drawn as one slot per day of the range, days without data
    included: on a date axis plotly sizes bars by the smallest gap between two days, so a
    single day would be drawn one millisecond wide."""
    groups = [(None, df)] if color is None else list(df.groupby(color, sort=True, dropna=False))
    if days is not None:
        fmt = SHORT_DAY_FORMAT if days and (days[-1] - days[0]).days < 300 else LONG_DAY_FORMAT
    traces = []
    for name, part in groups:
        if days is not None:
            by_day = dict(zip(day_labels(part[x], fmt), _values(part[y])))
            xs = day_labels(days, fmt)
            ys = [by_day.get(day) for day in xs]     # None: no bar, but the day keeps its slot
        else:
            xs, ys = _values(part[x]), _values(part[y])
        traces.append({"type": "bar", "x": ys if horizontal else xs, "y": xs if horizontal else ys,
                       "orientation": "h" if horizontal else "v",
                       "name": _literal(str(name)) if name is not None else y_title,
                       "showlegend": color is not None})
    category_axis = {"type": "category"} if categorical_x or days is not None else {}
    value_axis: dict = {"rangemode": "tozero"}
    if pd.api.types.is_integer_dtype(df[y]) and not df.empty and df[y].max() <= 10:
        value_axis["dtick"] = 1           # whole counts: no ticks at 0.2, 0.4, ...
    if horizontal:
        x_title, y_title = y_title, x_title
        axes = {"yaxis": category_axis, "xaxis": value_axis}
    else:
        axes = {"xaxis": category_axis, "yaxis": value_axis}
    return _figure(traces, title, x_title, y_title, legend_title,
                   barmode="stack" if stacked else "group", **axes)


def lines(df: pd.DataFrame, x: str, ys: Sequence[str], title: str, x_title: str, y_title: str,
          names: Sequence[str] | None = None, color: str | None = None,
          y_range: tuple[float, float] | None = None,
          x_range: tuple[datetime, datetime] | None = None,
          legend_title: str | None = None) -> go.Figure:
    """Lines with markers: one per column in `ys`, or (with `color`) one per group of the
    single column ys[0]. SVG, not WebGL: the series are short, and SVG renders everywhere.
    Give a time axis `x_range` (the filter's days): left to itself, plotly spans a single
    point over a few milliseconds."""
    if color is None:
        series = [(name, df, column) for column, name in zip(ys, names or ys)]
    else:
        series = [(_literal(str(group)), part, ys[0])
                  for group, part in df.groupby(color, sort=True)]
    traces = [{"type": "scatter", "mode": "lines+markers", "name": name,
               "x": _values(part[x]), "y": _values(part[column])}
              for name, part, column in series]
    layout: dict = {"yaxis": {"range": list(y_range)}} if y_range else {}
    if x_range:
        layout["xaxis"] = {"type": "date", "range": [t.isoformat() for t in x_range]}
    return _figure(traces, title, x_title, y_title, legend_title, **layout)


def table_with_download(df: pd.DataFrame, key: str, download: bool = True) -> None:
    """The table as data (never as Markdown or HTML) and a CSV of what is shown, with text
    cells that a spreadsheet would run as formulas neutralised (core/csv_safety.py)."""
    st.dataframe(df, hide_index=True, width="stretch", height=min(38 + 35 * len(df), 250),
                 key=f"table_{key}",
                 column_config={c: f for c, f in _COLUMN_FORMATS.items() if c in df.columns})
    if download:
        # on_click="ignore": downloading needs no rerun of the whole dashboard.
        st.download_button("Download CSV", data=neutralise_frame(df).to_csv(index=False),
                           file_name=f"{key}.csv", mime="text/csv", key=f"csv_{key}", on_click="ignore",
                           icon=":material/download:")


def chart_block(df: pd.DataFrame, key: str, figure: Callable[[pd.DataFrame], go.Figure],
                caption: str | None = None, download: bool = True, table: bool = True,
                empty: str = NO_DATA) -> bool:
    """One panel: chart, its data as a table (unless `table` is off: another panel shows the
    same rows) and (unless `download` is off) a CSV download; a short message instead when
    there is nothing to show (`empty`: why). True when a chart was drawn."""
    if caption:
        st.caption(caption)
    if df.empty:
        st.info(empty, icon=":material/info:")
        return False
    st.plotly_chart(figure(df), key=f"chart_{key}", config={"displaylogo": False})
    if table:
        table_with_download(df, key, download)
    return True

"""The one place where the store's SQL (written for DuckDB) becomes PostgreSQL.

Every store module writes one set of queries, in DuckDB's dialect with `?` parameters. On
PostgreSQL each statement goes through `translate` once (the result is cached by its text):
sqlglot transpiles it, a few rewrites below cover what sqlglot leaves as DuckDB, and the
parameters become psycopg's named form (`%(1)s`), so a parameter sqlglot repeats (it expands
`list_contains(x, ?)` into a CASE) is still bound once. What no rewrite can express is a
function in `COMPAT_FUNCTIONS`, created by `install_compat_functions` on every PostgreSQL
database before the migrations run.
"""
from __future__ import annotations

import re
from functools import lru_cache

import sqlglot
from sqlglot import exp

# DuckDB functions the store uses that PostgreSQL lacks, as plain SQL functions. Each keeps
# DuckDB's meaning (NULL handling, 1-based lists), so a query means the same on both stores.
COMPAT_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION round(x DOUBLE PRECISION, digits INTEGER) RETURNS DOUBLE PRECISION
    LANGUAGE SQL IMMUTABLE AS $$ SELECT round(x::NUMERIC, digits)::DOUBLE PRECISION $$;
CREATE OR REPLACE FUNCTION list_position(xs anyarray, x anyelement) RETURNS INTEGER
    LANGUAGE SQL IMMUTABLE AS $$ SELECT array_position(xs, x) $$;
CREATE OR REPLACE FUNCTION contains(haystack TEXT, needle TEXT) RETURNS BOOLEAN
    LANGUAGE SQL IMMUTABLE AS $$ SELECT strpos(haystack, needle) > 0 $$;
CREATE OR REPLACE FUNCTION array_distinct(xs anyarray) RETURNS anyarray
    LANGUAGE SQL IMMUTABLE AS $$
    SELECT coalesce((SELECT array_agg(DISTINCT x) FROM unnest(xs) AS t(x)
                     WHERE x IS NOT NULL), xs[1:0]) $$;
CREATE OR REPLACE FUNCTION array_sort(xs anyarray) RETURNS anyarray
    LANGUAGE SQL IMMUTABLE AS $$
    SELECT coalesce((SELECT array_agg(x ORDER BY x) FROM unnest(xs) AS t(x)), xs[1:0]) $$;
"""


def _placeholders(sql: str) -> str:
    """DuckDB `?` parameters -> `$1, $2, ...` (outside string literals and comments), so the
    order survives any rewrite sqlglot makes."""
    out: list[str] = []
    number = 0
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
            continue
        if ch == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
            continue
        if ch == "?":
            number += 1
            out.append(f"${number}")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _group_by_all(node: exp.Expression) -> exp.Expression:
    """`GROUP BY ALL` (DuckDB) -> the select list's expressions that hold no aggregate."""
    if not isinstance(node, exp.Select):
        return node
    group = node.args.get("group")
    if group is None or not group.args.get("all"):
        return node
    keys = []
    for projection in node.expressions:
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if inner.find(exp.AggFunc) or inner.find(exp.Window):
            continue
        keys.append(inner.copy())
    node.set("group", exp.Group(expressions=keys) if keys else None)
    return node


def _arg_extreme(node: exp.Expression) -> exp.Expression:
    """`arg_max(v, k)` / `arg_min(v, k)` -> the first of v ordered by k, rows with a NULL k
    left out (as DuckDB does)."""
    if not isinstance(node, (exp.ArgMax, exp.ArgMin)):
        return node
    value, key = node.this, node.expression
    order = exp.Ordered(this=key.copy(), desc=isinstance(node, exp.ArgMax), nulls_first=False)
    agg = exp.ArrayAgg(this=exp.Order(this=value.copy(), expressions=[order]))
    filtered = exp.Filter(this=agg, expression=exp.Where(
        this=exp.Not(this=exp.Is(this=key.copy(), expression=exp.Null()))))
    return exp.Bracket(this=exp.Paren(this=filtered), expressions=[exp.Literal.number(1)])


def _lambdas(node: exp.Expression) -> exp.Expression:
    """`list_transform(xs, lambda x: f(x))` -> `ARRAY(SELECT f(x) FROM unnest(xs) ...)` in
    the list's order; `list_filter` likewise with a WHERE."""
    if isinstance(node, exp.Transform):
        lam = node.expression
        var = lam.expressions[0].name
        source = exp.Unnest(expressions=[node.this.copy()], alias=exp.TableAlias(
            this=exp.to_identifier("_l"), columns=[exp.to_identifier(var),
                                                  exp.to_identifier("_ord")]))
        source.set("offset", None)
        select = exp.select(lam.this.copy()).from_(source).order_by("_ord")
        return exp.Array(expressions=[select])
    return node


_NAMED = re.compile(r"%\((\d+)\)s")


def _psycopg_form(sql: str) -> str:
    """Escape every `%` psycopg would read as a placeholder, keeping our `%(n)s` ones."""
    parts = _NAMED.split(sql)
    for k in range(0, len(parts), 2):
        parts[k] = parts[k].replace("%", "%%")
    for k in range(1, len(parts), 2):
        parts[k] = f"%({parts[k]})s"
    return "".join(parts)


@lru_cache(maxsize=8192)
def translate(sql: str) -> tuple[str, ...]:
    """The PostgreSQL statements for one DuckDB statement (or script)."""
    trees = sqlglot.parse(_placeholders(sql), read="duckdb")
    statements = []
    for tree in trees:
        if tree is None:
            continue
        tree = tree.transform(_group_by_all).transform(_arg_extreme)
        if isinstance(tree, exp.Create) and tree.args.get("replace") and tree.kind == "TABLE":
            # PostgreSQL has no CREATE OR REPLACE TABLE: drop, then create.
            tree.set("replace", False)
            statements.append(f"DROP TABLE IF EXISTS {tree.this.this.sql(dialect='postgres')}")
        statements.append(_psycopg_form(tree.sql(dialect="postgres")))
    return tuple(statements)


def bind(params) -> dict[str, object] | None:
    """Positional parameters -> the names `translate` gave them."""
    if params is None:
        return None
    if isinstance(params, dict):
        return params
    return {str(k): v for k, v in enumerate(params, start=1)}


_NUMBERED = re.compile(r"%\((\d+)\)s")


def numbered(statement: str) -> str:
    """A `translate`d statement in libpq's own parameter form (`$1`, `$2`, ...), as ADBC's
    PostgreSQL driver takes it, with psycopg's `%%` escapes undone."""
    parts = _NUMBERED.split(statement)
    for k in range(0, len(parts), 2):
        parts[k] = parts[k].replace("%%", "%")
    for k in range(1, len(parts), 2):
        parts[k] = f"${parts[k]}"
    return "".join(parts)

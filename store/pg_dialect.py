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

import itertools
import re
from functools import lru_cache

import sqlglot
from sqlglot import exp, transforms

# DuckDB functions the store uses that PostgreSQL lacks, as plain SQL functions. Each keeps
# DuckDB's meaning (NULL handling, 1-based lists), so a query means the same on both stores.
COMPAT_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION contains(haystack TEXT, needle TEXT) RETURNS BOOLEAN
    LANGUAGE SQL IMMUTABLE AS $$ SELECT strpos(haystack, needle) > 0 $$;
CREATE OR REPLACE FUNCTION array_distinct(xs anyarray) RETURNS anyarray
    LANGUAGE SQL IMMUTABLE AS $$
    SELECT coalesce((SELECT array_agg(DISTINCT x) FROM unnest(xs) AS t(x)
                     WHERE x IS NOT NULL), xs[1:0]) $$;
CREATE OR REPLACE FUNCTION length(xs anyarray) RETURNS INTEGER
    LANGUAGE SQL IMMUTABLE AS $$ SELECT cardinality(xs) $$;
CREATE OR REPLACE FUNCTION regexp_split(s TEXT, pattern TEXT) RETURNS TEXT[]
    LANGUAGE SQL IMMUTABLE AS $$ SELECT regexp_split_to_array(s, pattern) $$;
CREATE OR REPLACE FUNCTION regexp_extract(s TEXT, pattern TEXT, grp INTEGER) RETURNS TEXT
    LANGUAGE SQL IMMUTABLE AS $$
    SELECT CASE WHEN s IS NULL THEN NULL
                ELSE coalesce((regexp_match(s, '(' || pattern || ')'))[grp + 1], '') END $$;
CREATE OR REPLACE FUNCTION sl_regexp_extract_all(s TEXT, pattern TEXT, flags TEXT)
    RETURNS TEXT[] LANGUAGE SQL IMMUTABLE AS $$
    SELECT CASE WHEN s IS NULL THEN NULL ELSE coalesce(
        (SELECT array_agg(m[1]) FROM regexp_matches(s, '(' || pattern || ')', flags) AS m),
        '{}'::TEXT[]) END $$;
CREATE OR REPLACE FUNCTION round(x DOUBLE PRECISION, digits INTEGER) RETURNS DOUBLE PRECISION
    LANGUAGE SQL IMMUTABLE AS $$ SELECT round(x::NUMERIC, digits)::DOUBLE PRECISION $$;
CREATE OR REPLACE FUNCTION sl_first_non_null(a anyelement, b anyelement) RETURNS anyelement
    LANGUAGE SQL IMMUTABLE AS $$ SELECT coalesce(a, b) $$;
CREATE OR REPLACE AGGREGATE any_value(anyelement) (SFUNC = sl_first_non_null, STYPE = anyelement);
CREATE OR REPLACE AGGREGATE array_concat_agg(anycompatiblearray) (
    SFUNC = array_cat, STYPE = anycompatiblearray);
CREATE OR REPLACE FUNCTION list_position(xs anycompatiblearray, x anycompatible)
    RETURNS INTEGER LANGUAGE SQL IMMUTABLE AS $$ SELECT array_position(xs, x) $$;
CREATE OR REPLACE FUNCTION sl_json_strings(j JSON, field TEXT) RETURNS TEXT[]
    LANGUAGE SQL IMMUTABLE AS $$
    SELECT CASE WHEN j IS NULL OR json_typeof(j) <> 'array' THEN NULL ELSE
        coalesce((SELECT array_agg(e->>field ORDER BY o) FROM json_array_elements(j)
                  WITH ORDINALITY AS t(e, o)), '{}') END $$;
CREATE OR REPLACE FUNCTION list_contains(xs anycompatiblearray, x anycompatible)
    RETURNS BOOLEAN LANGUAGE SQL IMMUTABLE AS $$
    SELECT CASE WHEN xs IS NULL OR x IS NULL THEN NULL
                ELSE coalesce(x = ANY(xs), FALSE) END $$;
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
            out.append(f"${number} ")  # "$8,$9" would read as a $-quoted string
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
        if not inner.find(exp.Column):
            continue        # a constant: PostgreSQL refuses one in GROUP BY
        keys.append(inner.copy())
    node.set("group", exp.Group(expressions=keys) if keys else None)
    return node


def _arg_extreme(node: exp.Expression) -> exp.Expression:
    """`arg_max(v, k)` / `arg_min(v, k)` -> the first of v ordered by k, rows with a NULL k
    left out (as DuckDB does)."""
    if not isinstance(node, (exp.ArgMax, exp.ArgMin)):
        return node
    value = node.this.sql(dialect="postgres")
    key = node.expression.sql(dialect="postgres")
    order = "DESC" if isinstance(node, exp.ArgMax) else "ASC"
    return sqlglot.parse_one(
        f"(array_agg({value} ORDER BY {key} {order}) FILTER (WHERE {key} IS NOT NULL))[1]",
        read="postgres")


def _qualify(node: exp.Expression) -> exp.Expression:
    """`QUALIFY` -> a filtered subquery (sqlglot's rewrite), whose outer select list is just
    `*` when the query selects `*` or `t.*` (sqlglot would name the other columns again,
    which PostgreSQL finds ambiguous)."""
    if not (isinstance(node, exp.Select) and node.args.get("qualify")):
        return node
    star = node.is_star
    node = transforms.eliminate_qualify(node)
    if star:
        node.set("expressions", [exp.Star()])
    return node


_names = itertools.count(1)


def _subquery_aliases(node: exp.Expression) -> exp.Expression:
    """PostgreSQL 15 wants a name on every subquery in FROM; DuckDB does not."""
    if isinstance(node, exp.Subquery) and not node.alias and isinstance(
            node.parent, (exp.From, exp.Join)):
        node.set("alias", exp.TableAlias(this=exp.to_identifier(f"_sq{next(_names)}")))
    return node


def _empty_list_defaults(node: exp.Expression) -> exp.Expression:
    """`[]` (`coalesce(xs, [])`, a value inserted): PostgreSQL cannot type an empty ARRAY[];
    the literal '{}' takes its type from its place (xs's, the column's)."""
    if isinstance(node, exp.Array) and not node.expressions:
        return exp.Literal.string("{}")
    return node


def _order_by_all(node: exp.Expression) -> exp.Expression:
    """`ORDER BY ALL` -> every output column, by position."""
    if isinstance(node, exp.Select):
        order = node.args.get("order")
        if order is not None and len(order.expressions) == 1:
            only = order.expressions[0]
            if isinstance(only.this, (exp.Column, exp.Var)) and \
                    only.this.name.upper() == "ALL" and not getattr(only.this, "table", ""):
                node.set("order", exp.Order(expressions=[
                    exp.Ordered(this=exp.Literal.number(i), desc=only.args.get("desc"))
                    for i in range(1, len(node.expressions) + 1)]))
    return node


def _format_braces(node: exp.Expression) -> exp.Expression:
    """DuckDB's `format('{} s', x)` -> PostgreSQL's `format('%s s', x)`."""
    if isinstance(node, exp.Anonymous) and node.name.upper() == "FORMAT" or \
            type(node).__name__ == "Format":
        args = node.expressions if isinstance(node, exp.Anonymous) else \
            [node.this, *node.expressions]
        if args and isinstance(args[0], exp.Literal) and args[0].is_string:
            fmt = args[0].this.replace("%", "%%").replace("{}", "%s")
            return exp.Anonymous(this="format", expressions=[
                exp.Literal.string(fmt), *[a.copy() for a in args[1:]]])
    return node


def _typed_null_checks(tree: exp.Expression) -> exp.Expression:
    """`? IS NULL`: PostgreSQL cannot type a parameter used only there (a None); cast as text
    it can. A parameter used elsewhere too takes its type from there, and a cast would clash."""
    uses: dict[str, int] = {}
    for p in tree.find_all(exp.Placeholder, exp.Parameter):
        uses[p.sql()] = uses.get(p.sql(), 0) + 1
    for node in list(tree.find_all(exp.Is)):
        param = node.this
        if isinstance(param, (exp.Placeholder, exp.Parameter)) and uses[param.sql()] == 1:
            node.set("this", exp.Cast(this=param.copy(), to=exp.DataType.build("TEXT")))
    return tree


def _flatten_list(node: exp.Expression) -> exp.Expression:
    """`flatten(list(xs))` -> the lists' elements in one list (an aggregate of our own)."""
    if type(node).__name__ == "Flatten" and isinstance(node.this, exp.ArrayAgg):
        return exp.Anonymous(this="array_concat_agg", expressions=[node.this.this.copy()])
    return node


def _json_wildcards(node: exp.Expression) -> exp.Expression:
    """`json_extract_string(j, '$.a.b[*].name')` -> the list of every element's `name`."""
    if not isinstance(node, exp.JSONExtractScalar) or not isinstance(node.expression,
                                                                     exp.JSONPath):
        return node
    parts = node.expression.expressions
    if len(parts) < 3 or not isinstance(parts[-1], exp.JSONPathKey) or not (
            isinstance(parts[-2], exp.JSONPathSubscript)
            and isinstance(parts[-2].this, exp.JSONPathWildcard)) or not all(
            isinstance(p, exp.JSONPathKey) for p in parts[1:-2]):
        return node
    source = node.this.copy()
    if len(parts) > 3:
        source = exp.Anonymous(this="json_extract_path", expressions=[
            source, *[exp.Literal.string(p.this) for p in parts[1:-2]]])
    return exp.Anonymous(this="sl_json_strings", expressions=[
        source, exp.Literal.string(parts[-1].this)])


def _hash(node: exp.Expression) -> exp.Expression:
    """DuckDB's `hash(a, b, ...)` (the store groups equal answers by it) -> the md5 of the
    values' row text: equal values, equal hashes, as in DuckDB (not the same numbers)."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "hash" or \
            type(node).__name__ == "Hash":
        args = node.expressions if isinstance(node, exp.Anonymous) else \
            [a for a in [node.this, *node.expressions] if a is not None]
        row = ", ".join(a.sql(dialect="postgres") for a in args)
        return sqlglot.parse_one(f"md5(CAST(ROW({row}, 0) AS TEXT))", read="postgres")
    return node


def _list_contains(node: exp.Expression) -> exp.Expression:
    """`list_contains(xs, x)` stays a call (of COMPAT_FUNCTIONS' `list_contains`): sqlglot's
    own form names `x` twice, and PostgreSQL cannot type a parameter named twice with a NULL
    test; one call names each argument once, and the planner inlines it."""
    if not isinstance(node, exp.ArrayContains):
        return node
    return exp.Anonymous(this="list_contains", expressions=[node.this.copy(),
                                                           node.expression.copy()])


def _lambdas(node: exp.Expression) -> exp.Expression:
    """`list_transform(xs, lambda x: f(x))` -> `ARRAY(SELECT f(x) FROM unnest(xs) WITH
    ORDINALITY ... ORDER BY ordinality)`: PostgreSQL has no lambdas; the list's order is kept.
    (sqlglot already turns `list_filter` into such a subquery.)"""
    if not isinstance(node, exp.Transform):
        return node
    lam = node.expression
    var = lam.expressions[0].name
    body = lam.this.sql(dialect="postgres")
    source = node.this.sql(dialect="postgres")
    return sqlglot.parse_one(
        f"ARRAY(SELECT {body} FROM unnest({source}) WITH ORDINALITY AS _l({var}, _o)"
        " ORDER BY _o)", read="postgres")


def _re2_pattern(pattern: str) -> tuple[str, str]:
    """A DuckDB (RE2) pattern -> a PostgreSQL (ARE) one and its flags: `(?i)` becomes the
    `i` flag and the word boundary `\\b` becomes ARE's `\\y`; the rest of what the store's
    patterns use (classes, `(?:...)`, escapes in brackets) means the same in both."""
    flags = "g"
    if pattern.startswith("(?i)"):
        pattern, flags = pattern[4:], "gi"
    return re.sub(r"(?<!\\)((?:\\\\)*)\\b", r"\1\\y", pattern), flags


def _regexp_extract_all(node: exp.Expression) -> exp.Expression:
    """`regexp_extract_all(s, 'literal pattern')` -> every match, as DuckDB gives them."""
    if not isinstance(node, exp.RegexpExtractAll):
        return node
    pattern = node.expression
    if not isinstance(pattern, exp.Literal) or not pattern.is_string:
        return node
    converted, flags = _re2_pattern(pattern.this)
    return exp.Anonymous(this="sl_regexp_extract_all", expressions=[
        node.this.copy(), exp.Literal.string(converted), exp.Literal.string(flags)])


_NAMED = re.compile(r"%\((\w+)\)s")


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
        tree = tree.transform(_qualify).transform(_group_by_all).transform(_arg_extreme)
        tree = tree.transform(_lambdas)
        tree = tree.transform(_regexp_extract_all).transform(_subquery_aliases)
        tree = tree.transform(_order_by_all).transform(_format_braces)
        tree = _typed_null_checks(tree).transform(_flatten_list)
        tree = tree.transform(_empty_list_defaults).transform(_json_wildcards)
        tree = tree.transform(_hash).transform(_list_contains)
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

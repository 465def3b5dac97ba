"""Set-based writes for the ingestion hot path (PostgreSQL and SQLite ≥ 3.35): one statement per table.

Django's ``bulk_create(update_conflicts=True)`` returns primary keys only, and with
``ignore_conflicts=True`` nothing at all, so an upsert followed by a read costs two round trips
per table; ``bulk_update`` builds a CASE expression per row and field. These helpers get rows back
in the same statement (``INSERT … ON CONFLICT … RETURNING``) and update many rows from one
``VALUES`` list. They build plain SQL from the model's own fields. Rows go in chunks, so a batch
of a thousand events stays under SQLite's limit of bound parameters.

On PostgreSQL they bind parameters on the server, with native ``$n`` placeholders. Django's
psycopg 3 cursors bind on the client: psycopg quotes every value into the statement text in
Python, and even a server-binding cursor re-parses a statement for ``%s`` with a regular
expression (cached only for repeated texts, and a batch's VALUES list differs every time).
For a batch's multi-row INSERTs (5 KB raw events, JSON facets) the two cost ~2 ms of the ~5 ms
an event took to fold.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

M = TypeVar("M", bound=models.Model)

# Bound parameters per statement: SQLite allows 32,766; PostgreSQL 65,535.
MAX_PARAMS = 30_000


def _execute(sql: str, params: Sequence[Any], fetch: bool = False) -> list[tuple[Any, ...]]:
    """Run one statement on Django's connection (in its transaction); the rows when ``fetch``."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if fetch else []
    import psycopg

    connection.ensure_connection()
    # Errors become Django's (OperationalError …), as through a Django cursor: callers retry on them.
    with connection.wrap_database_errors, psycopg.RawCursor(connection.connection) as cursor:
        cursor.execute(sql, params)  # type: ignore[arg-type]  # our SQL is built, not a literal
        return cursor.fetchall() if fetch else []


def _instances(model: type[M], rows: list[tuple[Any, ...]]) -> list[M]:
    """Model instances from rows of all concrete columns, with the converters a queryset applies."""
    fields = model._meta.concrete_fields
    columns = [f.get_col(model._meta.db_table) for f in fields]
    converters = [
        (connection.ops.get_db_converters(c) + f.get_db_converters(connection), c)  # type: ignore[attr-defined]
        for f, c in zip(fields, columns, strict=True)
    ]
    names = [f.attname for f in fields]
    found = []
    for row in rows:
        values = list(row)
        for n, (funcs, column) in enumerate(converters):
            for func in funcs:
                values[n] = func(values[n], column, connection)
        found.append(model.from_db(connection.alias, names, values))
    return found


def _all_columns(model: type[models.Model]) -> str:
    return ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields)


def _chunks(objs: Sequence[M], width: int) -> Iterator[Sequence[M]]:
    size = max(1, MAX_PARAMS // max(width, 1))
    for start in range(0, len(objs), size):
        yield objs[start : start + size]


def _fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _values(rows: int, width: int, casts: Sequence[str] = ()) -> str:
    """A VALUES list of placeholders: ``$n`` on PostgreSQL (see ``_execute``), ``%s`` on SQLite.

    ``casts`` type the first row's columns (a VALUES list has no column types of its own).
    """
    if connection.vendor != "postgresql":
        return ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * rows)
    out = []
    for r in range(rows):
        marks = [f"${r * width + c + 1}" for c in range(width)]
        if r == 0 and casts:
            marks = [f"CAST({m} AS {t})" for m, t in zip(marks, casts, strict=True)]
        out.append("(" + ", ".join(marks) + ")")
    return ", ".join(out)


# Integer columns (keys, foreign keys) whose Python value the driver takes as it is: their
# get_db_prep_save is an identity, and all of them together cost a fifth of a batch's Python time.
_INTEGER_FIELDS = (models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField)


def _preparers(fields: Sequence[models.Field[Any, Any]]) -> list[Any]:
    """Per field, a function(value) -> database value: Django's get_db_prep_save, or a shortcut with its result.

    Values that are not of the expected type (an id given as a string, say) take Django's own path.
    """
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy: fields ask it for ops and features per value
    preparers: list[Any] = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            raise ValueError(f"{f} sets its value in pre_save, which these helpers do not call.")
        target = f.target_field if isinstance(f, models.ForeignKey) else f

        def django(value: Any, f: models.Field[Any, Any] = f) -> Any:
            return f.get_db_prep_save(value, db)

        if type(target) in _INTEGER_FIELDS:
            preparers.append(lambda value, django=django: value if type(value) is int else django(value))
        elif type(target) is models.CharField:
            preparers.append(lambda value, django=django: value if type(value) is str else django(value))
        elif db.vendor == "postgresql" and type(f) is models.JSONField and f.encoder is None:
            from psycopg.types.json import Jsonb

            preparers.append(Jsonb)  # what Django's adapt_json_value builds, without the detour
        else:
            preparers.append(django)
    return preparers


def _insert_parts(objs: Sequence[models.Model]) -> tuple[str, list[str], str, list[Any]]:
    meta = objs[0]._meta
    qn = connection.ops.quote_name
    fields = _fields(type(objs[0]))
    columns = [qn(f.column) for f in fields]
    plan = list(zip([f.attname for f in fields], _preparers(fields), strict=True))
    params: list[Any] = []
    for obj in objs:
        values = obj.__dict__
        for name, prepare in plan:
            value = values[name]
            params.append(None if value is None else prepare(value))
    return qn(meta.db_table), columns, _values(len(objs), len(fields)), params


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column  # a concrete column, not a relation's reverse
    return connection.ops.quote_name(field.column)


def _conflict(model: type[models.Model], unique: Sequence[str]) -> str:
    return ", ".join(_column(model, name) for name in unique)


def upsert_returning(objs: Sequence[M], unique: Sequence[str], touch: Sequence[str]) -> list[M]:
    """Insert the rows or, where one exists, set ``touch`` fields from the new row; return them all.

    The ``DO UPDATE`` locks existing rows until the transaction ends (on PostgreSQL), which is what
    serialises concurrent writers of the same job, run or dataset. Callers pass rows sorted by key
    (and each key once: one statement may not update a row twice).
    """
    if not objs:
        return []
    model = type(objs[0])
    updates = ", ".join(f"{_column(model, name)} = EXCLUDED.{_column(model, name)}" for name in touch)
    found: list[M] = []
    for chunk in _chunks(objs, len(_fields(model))):
        table, columns, values, params = _insert_parts(chunk)
        # Only quoted model column names are interpolated; every value is a parameter.
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} "  # noqa: S608
            f"ON CONFLICT ({_conflict(model, unique)}) DO UPDATE SET {updates} RETURNING {_all_columns(model)}"
        )
        found.extend(_instances(model, _execute(sql, params, fetch=True)))
    return found


def insert_ignore(objs: Sequence[models.Model], unique: Sequence[str]) -> None:
    """Insert the rows whose ``unique`` key is new; leave the others alone."""
    if not objs:
        return
    model = type(objs[0])
    for chunk in _chunks(objs, len(_fields(model))):
        table, columns, values, params = _insert_parts(chunk)
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} "  # noqa: S608
            f"ON CONFLICT ({_conflict(model, unique)}) DO NOTHING"
        )
        _execute(sql, params)


def insert_ignore_returning(objs: Sequence[models.Model], unique: Sequence[str], key: str) -> dict[Any, Any]:
    """Insert the rows whose ``unique`` key is new; ``{key field value: new primary key}`` for those.

    Rows that already existed are left alone and missing from the answer. Under concurrency the
    second writer of the same key waits for the first transaction and then inserts nothing — no
    error, no savepoint needed.
    """
    if not objs:
        return {}
    model = type(objs[0])
    pk = connection.ops.quote_name(model._meta.pk.column)
    found: dict[Any, Any] = {}
    for chunk in _chunks(objs, len(_fields(model))):
        table, columns, values, params = _insert_parts(chunk)
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} "  # noqa: S608
            f"ON CONFLICT ({_conflict(model, unique)}) DO NOTHING RETURNING {_column(model, key)}, {pk}"
        )
        found.update(_execute(sql, params, fetch=True))
    return found


def insert_ignore_returning_pk(obj: models.Model, unique: Sequence[str]) -> Any | None:
    """Insert one row unless its key exists; its new primary key, or None when it already existed."""
    model = type(obj)
    table, columns, values, params = _insert_parts([obj])
    pk = connection.ops.quote_name(model._meta.pk.column)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} "  # noqa: S608
        f"ON CONFLICT ({_conflict(model, unique)}) DO NOTHING RETURNING {pk}"
    )
    rows = _execute(sql, params, fetch=True)
    return rows[0][0] if rows else None


def update_rows(objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of every object to its row: one ``UPDATE … FROM (VALUES …)`` per chunk.

    Callers pass objects sorted by primary key, so concurrent writers lock rows in one order.
    """
    if not objs:
        return
    model = type(objs[0])
    meta = model._meta
    qn = connection.ops.quote_name
    targets = [f for f in (meta.pk, *(meta.get_field(name) for name in fields)) if isinstance(f, models.Field)]
    assert len(targets) == len(fields) + 1  # concrete columns only
    columns = [f.column for f in targets]
    casts = [str(f.db_type(connection)) for f in targets] if connection.vendor == "postgresql" else []
    assignments = ", ".join(f"{qn(c)} = v.{qn(c)}" for c in columns[1:])
    names = ", ".join(qn(c) for c in columns)
    table, pk = qn(meta.db_table), qn(columns[0])
    plan = list(zip([f.attname for f in targets], _preparers(targets), strict=True))
    for chunk in _chunks(objs, len(targets)):
        params: list[Any] = []
        for obj in chunk:
            values = obj.__dict__
            for name, prepare in plan:
                value = values[name]
                params.append(None if value is None else prepare(value))
        sql = (
            f"WITH v ({names}) AS (VALUES {_values(len(chunk), len(targets), casts)}) "  # noqa: S608
            f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{pk} = v.{pk}"
        )
        _execute(sql, params)

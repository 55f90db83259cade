"""Many rows into one table at once, as cheaply as the database allows.

The timeline writer puts an event per phone request, and an audit row per secret released,
into the database in batches. Through an INSERT (SQLAlchemy's executemany) a row cost about
26-40 us of the writer's CPU on PostgreSQL, through COPY 7-9 us (the same 500-row batches,
measured side by side): a boot storm's writer competes with the requests for the CPU, so
PostgreSQL with psycopg gets COPY; other databases (SQLite, the embedded default) one
executemany.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, cast

from sqlalchemy import JSON, String, Table, any_, bindparam, insert
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from provisioner.store.models.base import Base


def insert_rows(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (each with the same columns, named by their keys) into ``model``'s
    table in the session's transaction."""
    if not rows:
        return
    table = cast(Table, model.__table__)
    connection = session.connection()
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "psycopg":
        session.execute(insert(table), rows)
        return
    from psycopg import sql
    from psycopg.types.json import Json

    names = list(rows[0])
    as_json = [index for index, name in enumerate(names) if isinstance(table.c[name].type, JSON)]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(name) for name in names)
    )
    # A row's values in the columns' order, as a tuple made in C (itemgetter of one name
    # gives the bare value).
    values = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None  # a connection the session holds
    with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            if not as_json:
                copy.write_row(values(row))
                continue
            row_values = list(values(row))
            for index in as_json:
                row_values[index] = Json(row_values[index])
            copy.write_row(row_values)


def among(
    session: Session, column: InstrumentedAttribute[str], values: set[str]
) -> ColumnElement[bool]:
    """``column`` IN ``values``, as one array parameter on PostgreSQL. An IN list is a bind
    parameter per value: for a batch's thousands of MACs, SQLAlchemy renders and psycopg
    parses a statement of that many parameters, each batch anew (the writer's largest cost
    when it trims); ``= ANY(array)`` is the same statement whatever the count."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    from sqlalchemy.dialects.postgresql import ARRAY

    return column == any_(bindparam(None, sorted(values), type_=ARRAY(String)))

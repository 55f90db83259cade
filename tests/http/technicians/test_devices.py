"""A phone's history on the technicians' page: a line per deed, the item changes its save made
folded into it, as many lines as asked however many rows each deed folds."""

from __future__ import annotations

from flask import Flask

from provisioner.http.technicians.devices import who_did_what
from provisioner.store import get_store, models

MAC = "805ec0aabbcc"


def add_deed(app: Flask, number: int, folded_rows: int) -> None:
    """A pairing that saved ``folded_rows`` item changes of the phone first, as a save does."""
    with get_store(app).transaction() as session:
        saved = []
        for _ in range(folded_rows):
            row = models.AuditEvent(
                actor="token:ops", action="update", tenant="demo", object_type="phones",
                object_key=MAC, changes={"site": f"site {number}"},
            )  # fmt: skip
            session.add(row)
            session.flush()
            saved.append(row.id)
        session.add(
            models.AuditEvent(
                actor="token:ops",
                action="pair",
                tenant="demo",
                object_type="phones",
                object_key=MAC,
                changes={"extensions": [str(number)], "document_events": saved},
            )  # fmt: skip
        )


def test_deeds_that_fold_many_rows_still_fill_the_history(app: Flask) -> None:
    for number in range(8):
        add_deed(app, number, folded_rows=4)  # 5 rows a deed: more than the first read holds
    with get_store(app).reading() as session:
        deeds = who_did_what(session, "demo", MAC, limit=5)
    assert [deed.action for deed in deeds] == ["pair"] * 5
    assert [deed.details["extensions"] for deed in deeds] == [["7"], ["6"], ["5"], ["4"], ["3"]]


def test_a_short_history_is_all_of_it(app: Flask) -> None:
    add_deed(app, 1, folded_rows=2)
    with get_store(app).reading() as session:
        deeds = who_did_what(session, "demo", MAC, limit=5)
    assert [deed.action for deed in deeds] == ["pair"]

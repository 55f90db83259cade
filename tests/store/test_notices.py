"""The kept-rows cache judges every read by its own tenant: a change of one tenant never
throws away what was read of the others, and a reload it raced reads only that tenant again."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from provisioner.store import notices
from provisioner.store.notices import LookupCache

Entry = tuple[Hashable, int | None, str]
ROWS: dict[int, list[Entry]] = {
    1: [("aa0001", 1, "one"), ("aa0002", 1, "two")],
    2: [("bb0001", 2, "three")],
}


@pytest.fixture
def engine(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    # A channel of this test's own: no other test's change reaches it.
    monkeypatch.setattr(notices, "CHANNEL", f"provisioner_test_{uuid.uuid4().hex[:8]}")
    engine = create_engine(postgres_url)
    yield engine
    engine.dispose()


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def started(cache: LookupCache[str]) -> LookupCache[str]:
    cache.get("anything")  # the first use starts the watch
    assert wait_until(lambda: cache.settled)
    return cache


class Preload:
    """Every tenant's rows (or one tenant's), noting which reloads were asked for; the first
    full reload can be made to race a change of ``racing``."""

    def __init__(self, racing: tuple[LookupCache[str], int] | None = None) -> None:
        self.asked: list[int | None] = []
        self.racing = racing

    def __call__(self, _session: Session, tenant: int | None) -> Iterable[Entry]:
        self.asked.append(tenant)
        if self.racing is not None:
            cache, changed = self.racing
            self.racing = None
            cache.forget(changed)  # committed while the reload reads
        for number, rows in ROWS.items():
            if tenant in (None, number):
                yield from rows


@pytest.mark.postgres
def test_a_reload_raced_by_one_tenants_change_keeps_the_others_and_reads_that_one_again(
    engine: Engine,
) -> None:
    preload = Preload()
    cache: LookupCache[str] = LookupCache(engine, preload)
    preload.racing = (cache, 2)
    try:
        started(cache)
        assert preload.asked == [None, 2]  # the full read, then tenant 2 alone
        assert cache.get("aa0001") == "one"
        assert cache.get("bb0001") == "three"
    finally:
        cache.close()


@pytest.mark.postgres
def test_a_read_is_kept_unless_its_own_tenant_changed_meanwhile(engine: Engine) -> None:
    cache = started(LookupCache(engine, Preload()))
    try:
        generation = cache.generation()
        cache.forget(2)
        cache.put("aa0009", 1, "kept", generation)
        cache.put("bb0009", 2, "raced", generation)
        cache.put("cc0009", None, "unknown", generation)  # any pairing may have been its own
        assert cache.get("aa0009") == "kept"
        assert cache.get("bb0009") is None
        assert cache.get("cc0009") is None
        generation = cache.generation()
        cache.forget()  # every tenant
        cache.put("aa0010", 1, "raced", generation)
        assert cache.get("aa0010") is None
    finally:
        cache.close()


@pytest.mark.postgres
def test_a_notice_on_the_channel_forgets_its_tenant_and_its_rows_are_read_again(
    engine: Engine,
) -> None:
    preload = Preload()
    cache = started(LookupCache(engine, preload))
    try:
        asked = len(preload.asked)
        with engine.begin() as connection:
            connection.execute(
                text("SELECT pg_notify(:channel, '1')"), {"channel": notices.CHANNEL}
            )
        assert wait_until(lambda: preload.asked[asked:] == [1] and cache.settled)
        assert cache.get("aa0002") == "two"
        assert cache.get("bb0001") == "three"
    finally:
        cache.close()

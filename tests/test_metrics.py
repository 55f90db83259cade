"""What a phone's request counts is gathered per process and added to the metrics in bulk:
the metrics then read exactly as if each count had been made on its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from provisioner.metrics import Tally

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# On bounds, between them, below the first and past the last.
VALUES = [0.0001, 0.0005, 0.0007, 0.001, 0.003, 0.003, 0.04, 0.5, 2.5, 3.0, 60.0, 0.0]


def metrics() -> tuple[CollectorRegistry, Counter, Histogram]:
    registry = CollectorRegistry()
    counter = Counter("answers", "answers", ["answer"], registry=registry)
    histogram = Histogram("seconds", "seconds", ["protocol"], buckets=BUCKETS, registry=registry)
    return registry, counter, histogram


def test_a_flushed_tally_reads_as_each_count_made_on_its_own() -> None:
    direct, counter, histogram = metrics()
    for value in VALUES:
        counter.labels("full").inc()
        histogram.labels("http").observe(value)
    counter.labels("denied").inc(3)

    tallied, counter, histogram = metrics()
    tally = Tally()
    for value in VALUES:
        tally.count(counter.labels("full"))
        tally.observe(histogram.labels("http"), value)
    tally.count(counter.labels("denied"), 3)
    assert generate_latest(tallied) != generate_latest(direct)  # nothing added yet
    tally.flush()
    assert without_created(generate_latest(tallied)) == without_created(generate_latest(direct))
    tally.flush()  # nothing twice
    assert without_created(generate_latest(tallied)) == without_created(generate_latest(direct))


def without_created(exposition: bytes) -> list[bytes]:
    """The exposition's samples but the creation times (they differ between registries)."""
    return [line for line in exposition.splitlines() if b"_created" not in line]

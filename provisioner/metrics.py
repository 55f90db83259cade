"""The operators' metrics (prometheus-client counters and a histogram), counted where the
work happens; ``provisioner.http.metrics`` serves them as ``GET /metrics``.

What a phone's request counts goes through the process's ``TALLY``: counting is a dict update,
and a thread adds the sums to the metrics every ``TALLY_SECONDS`` (in multiprocess mode each
change of a metric takes a lock, checks the process id and writes a memory-mapped file, four
times per answer). ``/metrics`` adds this process's tally first; another worker's answers
show within ``TALLY_SECONDS``, and a process adds what it holds as it exits.

Under the production command's workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder the
workers may write before they start: each worker then writes its samples there, and ``/metrics``
adds them up (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import bisect
import functools
import logging
import os
import threading
import time
from multiprocessing import util as multiprocessing_util
from typing import Any

from prometheus_client import Counter, Histogram

log = logging.getLogger(__name__)

PHONE_REQUESTS = Counter(
    "provisioner_phone_requests",
    "Phone file requests by how they were answered",
    ["answer", "protocol"],
)
RENDER_SECONDS = Histogram(
    "provisioner_phone_render_seconds",
    "Time to answer a phone's file request (identify, decide, render)",
    ["protocol"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


@functools.cache  # a handful of label pairs, asked for by every phone request
def phone_requests(answer: str, protocol: str) -> Counter:
    """The phone request counter of ``answer`` and ``protocol`` (``labels`` takes a lock and
    checks the labels on every call)."""
    return PHONE_REQUESTS.labels(answer, protocol)


@functools.cache
def render_seconds(protocol: str) -> Histogram:
    """The answer-time histogram of ``protocol`` (see ``phone_requests``)."""
    return RENDER_SECONDS.labels(protocol)


TFTP_TRANSFERS = Counter(
    "provisioner_tftp_transfers", "TFTP transfers by how they ended", ["outcome"]
)
TFTP_BYTES = Counter("provisioner_tftp_sent_bytes", "Bytes of files sent over TFTP")
XML_CURL_LOOKUPS = Counter(
    "provisioner_freeswitch_lookups",
    "FreeSWITCH mod_xml_curl lookups by section and outcome",
    ["section", "outcome"],
)
POLL_RESULTS = Counter(
    "provisioner_poll_results", "SNMP polls by outcome and device", ["outcome", "device"]
)
TRAPS_RECEIVED = Counter("provisioner_traps_received", "SNMP traps received")
SECRETS_RELEASED = Counter(
    "provisioner_secrets_released", "Secrets released (phone files, API reveals)", ["via"]
)

# How a phone request was answered, as the metric's ``answer`` label says it.
ANSWER_KINDS = ("full", "bootstrap", "common", "not_found", "denied", "throttled", "failed")


TALLY_SECONDS = 1.0


class Tally:
    """Counter increments and histogram observations gathered in this process, added to the
    metrics by ``flush`` (from a thread of its own every ``TALLY_SECONDS``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counted: dict[Any, float] = {}  # a counter (with its labels) -> amount
        self._observed: dict[tuple[Any, int], int] = {}  # (histogram, bucket) -> observations
        self._summed: dict[Any, float] = {}  # a histogram -> the sum of its observations
        self._started = False  # this process's thread (a forked child starts its own)

    def count(self, counter: Any, amount: float = 1.0) -> None:
        """``counter.inc(amount)``, soon."""
        with self._lock:
            self._counted[counter] = self._counted.get(counter, 0.0) + amount
        if not self._started:
            self._start()

    def observe(self, histogram: Any, value: float) -> None:
        """``histogram.observe(value)``, soon: into the first bucket whose bound holds it."""
        bucket = (histogram, bisect.bisect_left(histogram._upper_bounds, value))
        with self._lock:
            self._observed[bucket] = self._observed.get(bucket, 0) + 1
            self._summed[histogram] = self._summed.get(histogram, 0.0) + value
        if not self._started:
            self._start()

    def flush(self) -> None:
        """Add what was gathered to the metrics."""
        with self._lock:
            counted, self._counted = self._counted, {}
            observed, self._observed = self._observed, {}
            summed, self._summed = self._summed, {}
        for counter, amount in counted.items():
            counter.inc(amount)
        # What Histogram.observe changes, once per bucket and histogram.
        for (histogram, bucket), observations in observed.items():
            histogram._buckets[bucket].inc(observations)
        for histogram, total in summed.items():
            histogram._sum.inc(total)

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._run, name="metrics-tally", daemon=True).start()
        # Run by atexit in a plain process, and by a multiprocessing child as it ends.
        multiprocessing_util.Finalize(None, self.flush, exitpriority=10)

    def _run(self) -> None:
        while True:
            time.sleep(TALLY_SECONDS)
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - logged; the next round tries again
                log.exception("metrics: the tally could not be added")

    def after_fork(self) -> None:
        """In a forked child: nothing the parent gathered, no lock held, no thread yet."""
        self._lock = threading.Lock()
        self._counted, self._observed, self._summed = {}, {}, {}
        self._started = False


TALLY = Tally()
os.register_at_fork(after_in_child=TALLY.after_fork)


@functools.cache
def secrets_released(via: str) -> Counter:
    """The released-secrets counter of ``via`` (see ``phone_requests``)."""
    return SECRETS_RELEASED.labels(via)

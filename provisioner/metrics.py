"""The operators' metrics (prometheus-client counters and a histogram), counted where the
work happens; ``provisioner.http.metrics`` serves them as ``GET /metrics``.

Under the production command's workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder the
workers may write before they start: each worker then writes its samples there, and ``/metrics``
adds them up (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import functools

from prometheus_client import Counter, Histogram

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

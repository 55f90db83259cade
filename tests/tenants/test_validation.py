"""Validation of whole documents: call-flow graphs of any size."""

from __future__ import annotations

from typing import Any

import pytest

from provisioner.errors import ValidationFailed
from provisioner.tenants.validation import parse_document


def long_flow(length: int, last_next: str | None) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [
        {"id": f"s{index}", "type": "PREFIX", "prefix": "x", "next": f"s{index + 1}"}
        for index in range(length)
    ]
    steps.append({"id": f"s{length}", "type": "PREFIX", "prefix": "x", "next": last_next})
    return {
        "name": "acme",
        "sip_domain": "acme.example.net",
        "call_flows": [{"name": "Lang", "steps": steps}],
    }


def test_a_long_flow_is_checked_without_running_out_of_stack() -> None:
    document = parse_document(long_flow(3000, None))
    assert len(document.call_flows[0].steps) == 3001


def test_a_silent_loop_at_the_end_of_a_long_flow_is_found() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_document(long_flow(3000, "s2998"))
    problem = caught.value.problems[0]
    assert problem.path == "call_flows[0].steps[2998]"
    assert problem.reason.startswith("loop s2998 -> s2999 -> s3000 -> s2998 never plays")

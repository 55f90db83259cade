"""Call flows: step references, branches, reachability and loops that never wait."""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from typing import TypeVar

from provisioner.errors import FieldProblem
from provisioner.tenants import numbers as phone_numbers
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.base import parse_destination
from provisioner.tenants.schema.call_flows import (
    CallFlow,
    ConditionStep,
    DiversionStep,
    GroupPickupStep,
    MenuStep,
    QueueStep,
    RingGroupStep,
    SoundStep,
    Step,
    TimeConditionStep,
    TransferStep,
    VoicemailStep,
)
from provisioner.tenants.validation.references import Index, check_destination, check_external

Node = TypeVar("Node", bound=Hashable)


def check_flow(document: TenantDocument, flow: CallFlow, path: str) -> Iterator[FieldProblem]:
    ids: dict[str, int] = {}
    for position, step in enumerate(flow.steps):
        if step.id in ids:
            yield FieldProblem(f"{path}.steps[{position}].id", f"step id {step.id} is used twice")
        ids.setdefault(step.id, position)
    if flow.start and flow.start not in ids:
        yield FieldProblem(f"{path}.start", f"no step {flow.start} in this flow")
    for position, step in enumerate(flow.steps):
        step_path = f"{path}.steps[{position}]"
        for branch, target in step.branches().items():
            if target is not None and target not in ids:
                yield FieldProblem(f"{step_path}.{branch}", f"no step {target} in this flow")
        yield from check_step_references(document, step, step_path)
    if flow.start and flow.start not in ids:
        return
    yield from check_reachable(flow, path, ids)
    yield from check_loops(flow, path, ids)


def check_step_references(
    document: TenantDocument, step: Step, path: str
) -> Iterator[FieldProblem]:
    index = Index(document)
    wanted: list[tuple[str, str, set[str], str]] = []
    if isinstance(step, TimeConditionStep):
        wanted.append(
            ("time_condition", step.time_condition, index.time_conditions, "time condition")
        )
    if isinstance(step, SoundStep):
        wanted.append(("sound", step.sound, index.sounds, "sound"))
    if isinstance(step, MenuStep):
        wanted.append(("prompt", step.prompt, index.sounds, "sound"))
        if step.invalid_sound:
            wanted.append(("invalid_sound", step.invalid_sound, index.sounds, "sound"))
    if isinstance(step, QueueStep):
        wanted.append(("queue", step.queue, index.queues, "queue"))
    if isinstance(step, RingGroupStep | GroupPickupStep):
        wanted.append(("ring_group", step.ring_group, index.ring_groups, "ring group"))
    if isinstance(step, VoicemailStep):
        wanted.append(("box", step.box, index.boxes, "voicemail box"))
    for field, value, known, noun in wanted:
        if value not in known:
            yield FieldProblem(f"{path}.{field}", f"{noun} {value} does not exist")
    if isinstance(step, TransferStep):
        yield from check_transfer_target(document, step.target, f"{path}.target")
    if isinstance(step, DiversionStep):
        yield from check_diversion(document, step.destination, f"{path}.destination")
    if isinstance(step, ConditionStep) and not _has_criterion(step):
        yield FieldProblem(
            path,
            "a condition needs at least one of caller_numbers, caller_prefixes, anonymous, "
            "dialled_numbers or switch",
        )


def check_transfer_target(
    document: TenantDocument, target: str, path: str
) -> Iterator[FieldProblem]:
    if phone_numbers.is_internal(target):
        if target not in Index(document).extensions:
            yield FieldProblem(path, f"extension {target} does not exist")
        return
    yield from check_external(document, target, path)


def check_diversion(document: TenantDocument, target: str, path: str) -> Iterator[FieldProblem]:
    if ":" in target or target == "hangup":
        yield from check_destination(document, target, path)
    else:
        yield from check_transfer_target(document, target, path)


def _has_criterion(step: ConditionStep) -> bool:
    return bool(
        step.caller_numbers
        or step.caller_prefixes
        or step.anonymous
        or step.dialled_numbers
        or step.switch is not None
    )


def _successors(step: Step) -> list[str]:
    return [target for target in step.branches().values() if target is not None]


def check_reachable(flow: CallFlow, path: str, ids: dict[str, int]) -> Iterator[FieldProblem]:
    steps = {step.id: step for step in flow.steps}
    reached = {flow.start_step()}
    pending = [flow.start_step()]
    while pending:
        for target in _successors(steps[pending.pop()]):
            if target in steps and target not in reached:
                reached.add(target)
                pending.append(target)
    for step in flow.steps:
        if step.id not in reached:
            yield FieldProblem(
                f"{path}.steps[{ids[step.id]}]",
                f"step {step.id} cannot be reached from the start step {flow.start_step()}",
            )


def check_loops(flow: CallFlow, path: str, ids: dict[str, int]) -> Iterator[FieldProblem]:
    """A loop among steps that never keep the caller busy would spin forever: refuse it."""
    silent = {step.id: step for step in flow.steps if not step.WAITS}
    graph = {
        step_id: [target for target in _successors(step) if target in silent]
        for step_id, step in silent.items()
    }
    cycle = find_cycle(graph)
    if cycle:
        yield FieldProblem(
            f"{path}.steps[{ids[cycle[0]]}]",
            "loop " + " -> ".join([*cycle, cycle[0]]) + " never plays anything, rings "
            "or waits for the caller; break it or put a waiting step in it",
        )


def check_flow_jumps(document: TenantDocument) -> Iterator[FieldProblem]:
    """OMLEIDING to ``call_flow:X`` jumps at once: a circle of such jumps through steps that
    never keep the caller busy would spin forever, across flows or back into the same one."""
    flows = {flow.name: flow for flow in document.call_flows}
    graph: dict[tuple[str, str], list[tuple[str, str]]] = {}
    places: dict[tuple[str, str], str] = {}
    for flow_index, flow in enumerate(document.call_flows):
        for step_index, step in enumerate(flow.steps):
            node = (flow.name, step.id)
            jump = _jump_target(step, flows)
            if jump is not None:
                graph[node] = [jump]
                places[node] = f"call_flows[{flow_index}].steps[{step_index}].destination"
            elif not step.WAITS:
                graph[node] = [(flow.name, target) for target in _successors(step)]
    graph = {
        node: [target for target in targets if target in graph] for node, targets in graph.items()
    }
    cycle = find_cycle(graph) or []
    jumps = [node for node in cycle if node in places]
    if jumps:
        names = [f"{flow}/{step_id}" for flow, step_id in cycle]
        yield FieldProblem(
            places[jumps[0]],
            "loop " + " -> ".join([*names, names[0]]) + " never plays anything, rings or "
            "waits for the caller; divert elsewhere or put a waiting step in it",
        )


def _jump_target(step: Step, flows: Mapping[str, CallFlow]) -> tuple[str, str] | None:
    """The (flow, step) an OMLEIDING to a call flow enters, else None."""
    if not isinstance(step, DiversionStep) or not step.destination.startswith("call_flow:"):
        return None
    target = flows.get(parse_destination(step.destination)[1])
    return None if target is None else (target.name, target.start_step())


def find_cycle(graph: Mapping[Node, list[Node]]) -> list[Node] | None:
    """One cycle of ``graph`` as its nodes in order, or None.

    Depth-first without recursion: a flow of thousands of steps must not exhaust the stack.
    """
    done: set[Node] = set()
    for root in graph:
        if root in done:
            continue
        trail, on_trail, pending = [root], {root}, [iter(graph[root])]
        while pending:
            target = next(pending[-1], None)
            if target is None:
                on_trail.discard(trail[-1])
                done.add(trail.pop())
                pending.pop()
            elif target in on_trail:
                return trail[trail.index(target) :]
            elif target not in done:
                trail.append(target)
                on_trail.add(target)
                pending.append(iter(graph[target]))
    return None

"""Checks a tenant document as a whole: forms, references, clashes, emergency numbers, flow graphs.

Shared by the importer and the API. Every problem names its field by path, e.g.
``call_flows[0].steps[3].target: extension 241 does not exist``.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Hashable, Iterable, Iterator, Mapping
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ValidationError

from provisioner.errors import FieldProblem, ValidationFailed
from provisioner.phones.keys import check_phones
from provisioner.routing.dialstrings import queue_slug
from provisioner.tenants import numbers as phone_numbers
from provisioner.tenants.schema import (
    COLLECTION_KEYS,
    STEP_TYPES,
    CallFlow,
    ConditionStep,
    DiversionStep,
    GroupPickupStep,
    HolidaySet,
    MenuStep,
    QueueStep,
    RingGroupStep,
    SoundStep,
    Step,
    TenantDocument,
    TimeConditionStep,
    TransferStep,
    VoicemailStep,
    minutes,
    parse_destination,
)

ModelT = TypeVar("ModelT", bound=BaseModel)
Node = TypeVar("Node", bound=Hashable)


def path_of(location: Iterable[int | str]) -> str:
    """``("call_flows", 0, "steps", 3, "target")`` -> ``call_flows[0].steps[3].target``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in STEP_TYPES or part.startswith("function-"):
            continue  # pydantic names the union member it tried; the reader does not need it
        else:
            text += f".{part}" if text else part
    return text


def problems_from_pydantic(error: ValidationError, prefix: str = "") -> list[FieldProblem]:
    """Turn pydantic's errors into field problems with readable paths."""
    found = []
    for detail in error.errors():
        path = path_of(detail["loc"])
        if prefix:
            path = f"{prefix}.{path}" if path and not path.startswith("[") else prefix + path
        reason = detail["msg"].removeprefix("Value error, ")
        found.append(FieldProblem(path, reason))
    return found


def parse_model(model: type[ModelT], data: Any, prefix: str = "") -> ModelT:
    """Validate ``data`` as ``model``; raise ValidationFailed naming every bad field."""
    if not isinstance(data, Mapping):
        raise ValidationFailed([FieldProblem(prefix, "expected a mapping of fields")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(problems_from_pydantic(exc, prefix)) from exc


def parse_document(data: Any) -> TenantDocument:
    """Validate structure and meaning of a tenant document; raise ValidationFailed if invalid."""
    document = parse_model(TenantDocument, data)
    check_document(document)
    return document


def check_document(document: TenantDocument) -> None:
    """Raise ValidationFailed with every semantic problem of ``document``."""
    problems = list(find_problems(document))
    if problems:
        raise ValidationFailed(problems)


def find_problems(document: TenantDocument) -> Iterator[FieldProblem]:
    """Every semantic problem of ``document``, in document order."""
    yield from _check_settings(document)
    yield from _check_duplicates(document)
    yield from _check_numbers(document)
    yield from _check_references(document)
    yield from _check_time_conditions(document)
    for index, flow in enumerate(document.call_flows):
        yield from _check_flow(document, flow, f"call_flows[{index}]")
    yield from _check_flow_jumps(document)
    yield from check_phones(document)


def _check_settings(document: TenantDocument) -> Iterator[FieldProblem]:
    yield from _check_timezone(document.timezone, "timezone")
    if not phone_numbers.is_country(document.country):
        # The country decides which emergency numbers are kept free and routed straight out.
        yield FieldProblem("country", f"{document.country} is not a country code; write e.g. NL")
    if document.fallback:
        yield from _check_destination(document, document.fallback, "fallback")
    for index, site in enumerate(document.sites):
        for network_index, network in enumerate(site.networks):
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                yield FieldProblem(
                    f"sites[{index}].networks[{network_index}]",
                    f"{network!r} is not a network; write it as 192.0.2.0/24",
                )


def _check_timezone(name: str, path: str) -> Iterator[FieldProblem]:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        yield FieldProblem(path, f"{name!r} is not a time zone; write e.g. Europe/Amsterdam")


def _check_duplicates(document: TenantDocument) -> Iterator[FieldProblem]:
    for collection, key in COLLECTION_KEYS.items():
        seen: set[str] = set()
        for index, item in enumerate(getattr(document, collection)):
            value = str(getattr(item, key))
            if value in seen:
                yield FieldProblem(
                    f"{collection}[{index}].{key}", f"{value} is listed twice in {collection}"
                )
            seen.add(value)


def dialled_numbers(document: TenantDocument) -> Iterator[tuple[str, str]]:
    """Every number a caller can dial in this tenant, with the path that defines it."""
    for index, extension in enumerate(document.extensions):
        yield extension.number, f"extensions[{index}].number"
    for index, group in enumerate(document.ring_groups):
        yield group.number, f"ring_groups[{index}].number"
    for index, queue in enumerate(document.queues):
        if queue.number:
            yield queue.number, f"queues[{index}].number"
    for index, number in enumerate(document.numbers):
        yield number.number, f"numbers[{index}].number"


def _check_numbers(document: TenantDocument) -> Iterator[FieldProblem]:
    for index, entry in enumerate(document.numbers):
        try:
            normalized = phone_numbers.normalize_number(entry.number, document.country)
        except ValueError as exc:
            yield FieldProblem(f"numbers[{index}].number", str(exc))
            continue
        if normalized != entry.number:
            yield FieldProblem(
                f"numbers[{index}].number", f"write {entry.number!r} as {normalized!r}"
            )
    owners: dict[str, str] = {}
    for number, path in dialled_numbers(document):
        emergency = phone_numbers.emergency_clash(number, document.country)
        if emergency:
            yield FieldProblem(
                path,
                f"{number} would capture or delay the emergency number {emergency}; "
                "emergency numbers are always routed straight out, choose another number",
            )
        if number in phone_numbers.STAR_CODES:
            yield FieldProblem(
                path, f"{number} is a star code the switch answers itself; choose another number"
            )
        if number in owners:
            yield FieldProblem(path, f"{number} is already used by {owners[number]}")
        else:
            owners[number] = path


class _Index:
    """The names a document defines, for reference checks."""

    def __init__(self, document: TenantDocument) -> None:
        self.extensions = {item.number for item in document.extensions}
        self.boxes = {item.number for item in document.voicemail_boxes}
        self.ring_groups = {item.number for item in document.ring_groups}
        self.queues = {item.name for item in document.queues}
        self.sounds = {item.name for item in document.sounds}
        self.time_conditions = {item.name for item in document.time_conditions}
        self.call_flows = {item.name for item in document.call_flows}
        self.sites = {item.name for item in document.sites}


def _check_destination(document: TenantDocument, text: str, path: str) -> Iterator[FieldProblem]:
    index = _Index(document)
    try:
        kind, value = parse_destination(text)
    except ValueError as exc:
        yield FieldProblem(path, str(exc))
        return
    known: dict[str, set[str]] = {
        "extension": index.extensions,
        "voicemail": index.boxes,
        "ring_group": index.ring_groups,
        "queue": index.queues,
        "call_flow": index.call_flows,
    }
    if kind in known and value not in known[kind]:
        yield FieldProblem(path, f"{kind.replace('_', ' ')} {value} does not exist")
    elif kind == "external":
        yield from _check_external(document, value, path)


def _check_external(document: TenantDocument, value: str, path: str) -> Iterator[FieldProblem]:
    try:
        phone_numbers.normalize_public(value, document.country)
    except ValueError as exc:
        yield FieldProblem(path, str(exc))


def _check_references(document: TenantDocument) -> Iterator[FieldProblem]:
    index = _Index(document)
    for position, extension in enumerate(document.extensions):
        if extension.voicemail and extension.number not in index.boxes:
            yield FieldProblem(
                f"extensions[{position}].voicemail",
                f"voicemail box {extension.number} does not exist; "
                "add it under voicemail_boxes or set voicemail: false",
            )
    for position, group in enumerate(document.ring_groups):
        if group.members != "all":
            yield from _check_members(index.extensions, group.members, f"ring_groups[{position}]")
        if group.no_answer:
            yield from _check_destination(
                document, group.no_answer, f"ring_groups[{position}].no_answer"
            )
    slugs: dict[str, str] = {}
    for position, queue in enumerate(document.queues):
        yield from _check_queue_name(queue.name, f"queues[{position}].name", slugs)
        yield from _check_members(index.extensions, queue.agents, f"queues[{position}]", "agents")
        if queue.music and queue.music not in index.sounds:
            yield FieldProblem(f"queues[{position}].music", f"sound {queue.music} does not exist")
    for position, number in enumerate(document.numbers):
        yield from _check_destination(
            document, number.destination, f"numbers[{position}].destination"
        )
    for position, phone in enumerate(document.phones):
        yield from _check_members(index.extensions, phone.lines, f"phones[{position}]", "lines")
        if phone.site and phone.site not in index.sites:
            yield FieldProblem(f"phones[{position}].site", f"site {phone.site} does not exist")


def _check_queue_name(name: str, path: str, slugs: dict[str, str]) -> Iterator[FieldProblem]:
    """Two names must not become the same FreeSWITCH queue (``Wachtrij 1`` / ``wachtrij-1``)."""
    slug = queue_slug(name)
    if re.search(r"-[0-9]+s$", slug):
        yield FieldProblem(path, f"{name!r} ends like a queue's wait-time variant; rename it")
    if slug in slugs:
        yield FieldProblem(path, f"{name!r} becomes the same switch queue as {slugs[slug]}")
    slugs.setdefault(slug, path)


def _check_members(
    extensions: set[str], members: Iterable[str], path: str, field: str = "members"
) -> Iterator[FieldProblem]:
    for position, member in enumerate(members):
        if member not in extensions:
            yield FieldProblem(f"{path}.{field}[{position}]", f"extension {member} does not exist")


def _check_time_conditions(document: TenantDocument) -> Iterator[FieldProblem]:
    for position, condition in enumerate(document.time_conditions):
        path = f"time_conditions[{position}]"
        if condition.timezone:
            yield from _check_timezone(condition.timezone, f"{path}.timezone")
        for rule_index, hours in enumerate(condition.weekly):
            yield from _check_range(hours.start, hours.end, f"{path}.weekly[{rule_index}]")
        for field in ("closed", "open"):
            for rule_index, rule in enumerate(getattr(condition, field)):
                yield from _check_date_rule(rule, f"{path}.{field}[{rule_index}]")
        if (
            condition.holidays
            and condition.holidays.country not in holidays.list_supported_countries()
        ):
            yield FieldProblem(
                f"{path}.holidays.country",
                f"no holiday calendar for {condition.holidays.country}",
            )
        elif condition.holidays:
            yield from _check_holiday_names(condition.holidays, f"{path}.holidays")


def _check_holiday_names(holiday_set: HolidaySet, path: str) -> Iterator[FieldProblem]:
    """A name kept open that the calendar does not use would be ignored: the office stays shut."""
    if not holiday_set.exclude:
        return
    known = holiday_names(holiday_set.country, holiday_set.include_optional)
    folded = {name.casefold() for name in known}
    for index, name in enumerate(holiday_set.exclude):
        if name.casefold() not in folded:
            yield FieldProblem(
                f"{path}.exclude[{index}]",
                f"{holiday_set.country} has no holiday {name!r}; write one of "
                + ", ".join(sorted(known)),
            )


@functools.lru_cache(maxsize=64)
def holiday_names(country: str, include_optional: bool) -> tuple[str, ...]:
    """The holiday names of ``country`` in the years around now, as the switch matches them
    (Dutch for NL; some holidays, like Bevrijdingsdag, are public only every few years)."""
    year = date.today().year
    categories = ("public", "optional") if include_optional else ("public",)
    years = range(year - 1, year + 6)
    try:
        calendar = holidays.country_holidays(
            country, years=years, language="nl" if country == "NL" else None, categories=categories
        )
    except NotImplementedError:
        calendar = holidays.country_holidays(country, years=years, categories=categories)
    return tuple(sorted({part for name in calendar.values() for part in name.split("; ")}))


def _check_range(start: str | None, end: str | None, path: str) -> Iterator[FieldProblem]:
    if (start is None) != (end is None):
        yield FieldProblem(path, "give both start and end, or neither for the whole day")
    elif start is not None and end is not None and minutes(end) <= minutes(start):
        yield FieldProblem(f"{path}.end", f"ends at {end}, before it starts at {start}")


def _check_date_rule(rule: Any, path: str) -> Iterator[FieldProblem]:
    parts = rule.date.split("-")
    year = int(parts[0]) if len(parts) == 3 else 2024  # a leap year accepts 02-29
    try:
        date(year, int(parts[-2]), int(parts[-1]))
    except ValueError:
        yield FieldProblem(f"{path}.date", f"{rule.date} is not a calendar date")
    yield from _check_range(rule.start, rule.end, path)


# --- Call flows ------------------------------------------------------------------------------


def _check_flow(document: TenantDocument, flow: CallFlow, path: str) -> Iterator[FieldProblem]:
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
        yield from _check_step_references(document, step, step_path)
    if flow.start and flow.start not in ids:
        return
    yield from _check_reachable(flow, path, ids)
    yield from _check_loops(flow, path, ids)


def _check_step_references(
    document: TenantDocument, step: Step, path: str
) -> Iterator[FieldProblem]:
    index = _Index(document)
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
        yield from _check_transfer_target(document, step.target, f"{path}.target")
    if isinstance(step, DiversionStep):
        yield from _check_diversion(document, step.destination, f"{path}.destination")
    if isinstance(step, ConditionStep) and not _has_criterion(step):
        yield FieldProblem(
            path,
            "a condition needs at least one of caller_numbers, caller_prefixes, anonymous, "
            "dialled_numbers or switch",
        )


def _check_transfer_target(
    document: TenantDocument, target: str, path: str
) -> Iterator[FieldProblem]:
    if phone_numbers.is_internal(target):
        if target not in _Index(document).extensions:
            yield FieldProblem(path, f"extension {target} does not exist")
        return
    yield from _check_external(document, target, path)


def _check_diversion(document: TenantDocument, target: str, path: str) -> Iterator[FieldProblem]:
    if ":" in target or target == "hangup":
        yield from _check_destination(document, target, path)
    else:
        yield from _check_transfer_target(document, target, path)


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


def _check_reachable(flow: CallFlow, path: str, ids: dict[str, int]) -> Iterator[FieldProblem]:
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


def _check_loops(flow: CallFlow, path: str, ids: dict[str, int]) -> Iterator[FieldProblem]:
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


def _check_flow_jumps(document: TenantDocument) -> Iterator[FieldProblem]:
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

"""The dialplan section: one context per tenant (named after its SIP domain) and ``public``.

Order inside a context matters and is fixed: emergency numbers first (straight out through the
provider's gateway, never into a flow), then the extensions, the star codes, every number that
leads into a flow (handed to mod_python), and last the outside numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

from provisioner.routing import dialstrings
from provisioner.routing.documents import add, new_document, serialize
from provisioner.routing.route import number_destination
from provisioner.tenants.numbers import dialled_forms, emergency_numbers
from provisioner.tenants.schema import TenantDocument

HANDLER_MODULE = "provisioner.callrouting"
PUBLIC_CONTEXT = "public"
OUTSIDE_NUMBER = r"^(\+[1-9][0-9]{6,14}|00[1-9][0-9]{6,14}|0[1-9][0-9]{8,10})$"
EXTENSION_RING_TIME = 30


def exact(numbers: Iterable[str]) -> str:
    """A PCRE matching exactly one of ``numbers``."""
    return "^(" + "|".join(re.escape(number) for number in numbers) + ")$"


def add_extension(context: etree._Element, name: str, expression: str) -> etree._Element:
    """An ``extension`` with one ``destination_number`` condition; returns the condition."""
    extension = add(context, "extension", name=name)
    return add(extension, "condition", field="destination_number", expression=expression)


def action(condition: etree._Element, application: str, data: str = "") -> None:
    """Append an ``action``."""
    if data:
        add(condition, "action", application=application, data=data)
    else:
        add(condition, "action", application=application)


def add_emergency(
    context: etree._Element, country: str, gateway: str, caller_id: str | None
) -> None:
    """Emergency numbers go straight out; nothing before this extension can catch them."""
    condition = add_extension(context, "emergency", exact(emergency_numbers(country)))
    if caller_id:
        action(condition, "set", f"effective_caller_id_number={caller_id}")
    action(condition, "set", "hangup_after_bridge=true")
    action(condition, "bridge", dialstrings.gateway_leg("$1", gateway))
    action(condition, "hangup")


def refuse_emergency(context: etree._Element, country: str) -> None:
    """In ``public`` (unauthenticated calls from carriers and the internet) an emergency number
    is neither bridged out (anyone could place anonymous calls over the provider's trunk) nor
    handed to a flow: the call is rejected."""
    condition = add_extension(context, "emergency-refused", exact(emergency_numbers(country)))
    action(condition, "log", "WARNING emergency number dialled into the public context; rejected")
    action(condition, "hangup", "CALL_REJECTED")


def main_public_number(document: TenantDocument) -> str | None:
    """The tenant's first public number: its caller ID for outside and emergency calls."""
    return next((item.number for item in document.numbers if item.number.startswith("+")), None)


def flow_numbers(document: TenantDocument) -> list[str]:
    """Every number answered by the handler: numbers entries, ring groups, numbered queues."""
    numbers = [item.number for item in document.numbers]
    numbers += [group.number for group in document.ring_groups]
    numbers += [queue.number for queue in document.queues if queue.number]
    return numbers


def tenant_context(section: etree._Element, document: TenantDocument, gateway: str) -> None:
    """The tenant's context, used by its registered phones and by calls transferred in."""
    domain = document.sip_domain
    context = add(section, "context", name=domain)
    add_emergency(context, document.country, gateway, main_public_number(document))
    for extension in document.extensions:
        add_local_extension(context, domain, extension.number, extension.voicemail)
    add_star_codes(context, domain, [extension.number for extension in document.extensions])
    for number in flow_numbers(document):
        hand_to_handler(
            add_extension(context, f"number {number}", exact([number])), document, number
        )
    add_outside_calls(context, document, gateway)


def hand_to_handler(condition: etree._Element, document: TenantDocument, number: str) -> None:
    """The call goes to mod_python3's handler, which walks the route of ``number``."""
    action(condition, "set", f"domain_name={document.sip_domain}")
    action(condition, "python", f"{HANDLER_MODULE} {document.name} {number}")
    action(condition, "hangup")


def add_local_extension(context: etree._Element, domain: str, number: str, voicemail: bool) -> None:
    """Ring a colleague; their voicemail when they do not answer (if they have a box)."""
    condition = add_extension(context, f"extension {number}", exact([number]))
    action(condition, "set", f"call_timeout={EXTENSION_RING_TIME}")
    action(condition, "set", "hangup_after_bridge=true")
    action(condition, "set", "continue_on_fail=true")
    action(condition, "bridge", dialstrings.user_leg(number, domain))
    if voicemail:
        action(condition, "answer")
        action(condition, "voicemail", f"{dialstrings.VOICEMAIL_PROFILE} {domain} {number}")
    action(condition, "hangup")


def add_star_codes(context: etree._Element, domain: str, extensions: list[str]) -> None:
    """*8 picks up a call ringing in the caller's group, *8 + extension the call ringing at
    that colleague (a BLF key); *97 / *98 listen to voicemail."""
    pickup = add_extension(context, "group pickup", r"^\*8$")
    action(pickup, "pickup", "${callgroup}")
    if extensions:
        add_directed_pickup(context, domain, extensions)
    own = add_extension(context, "own voicemail", r"^\*97$")
    action(own, "answer")
    action(own, "voicemail", f"check {dialstrings.VOICEMAIL_PROFILE} {domain} ${{user_name}}")
    any_box = add_extension(context, "any voicemail", r"^\*98$")
    action(any_box, "answer")
    action(any_box, "voicemail", f"check {dialstrings.VOICEMAIL_PROFILE} {domain}")


def add_directed_pickup(context: etree._Element, domain: str, extensions: list[str]) -> None:
    """``*8`` + an extension takes over the call ringing there (recorded by the directory's
    dial string), never one already answered: a BLF key cannot barge into a conversation.
    Only the tenant's own extensions match, so ``*8500`` stays the ring group ALLEN's."""
    prefix = re.escape(dialstrings.DIRECTED_PICKUP_PREFIX)
    expression = f"^{prefix}(" + "|".join(re.escape(number) for number in extensions) + ")$"
    condition = add_extension(context, "directed pickup", expression)
    action(condition, "set", "intercept_unanswered_only=true")
    action(condition, "intercept", dialstrings.ringing_call("$1", domain))
    action(condition, "hangup", "NO_ANSWER")


def add_outside_calls(context: etree._Element, document: TenantDocument, gateway: str) -> None:
    """Outside numbers through the provider's gateway, with the tenant's main number as ID."""
    condition = add_extension(context, "outside", OUTSIDE_NUMBER)
    caller_id = main_public_number(document)
    if caller_id:
        action(condition, "set", f"effective_caller_id_number={caller_id}")
    action(condition, "set", "hangup_after_bridge=true")
    action(condition, "bridge", dialstrings.gateway_leg("$1", gateway))
    action(condition, "hangup")


def extension_concerned(destination: str) -> str:
    """The extension a call to ``destination`` may need from the tenant: the dialled number,
    or the colleague's for a directed pickup code (``*8241`` -> ``241``)."""
    prefix = dialstrings.DIRECTED_PICKUP_PREFIX
    if destination.startswith(prefix) and destination[len(prefix) :].isdigit():
        return destination[len(prefix) :]
    return destination


def tenant_dialplan(document: TenantDocument, gateway: str) -> bytes:
    """The dialplan answer for a call routed in the tenant's context."""
    root, section = new_document("dialplan")
    tenant_context(section, document, gateway)
    return serialize(root)


def public_dialplan(matches: list[tuple[TenantDocument, str]], country: str, gateway: str) -> bytes:
    """The ``public`` context: emergency numbers rejected, each public number to its tenant's
    route (the call-routing handler).

    ``matches`` pairs a tenant with one of its public numbers (E.164); every form a carrier
    may deliver it in (+31..., 31..., 0031..., 0...) is matched.
    """
    root, section = new_document("dialplan")
    add_public_context(section, matches, country)
    return serialize(root)


def add_public_context(
    section: etree._Element, matches: list[tuple[TenantDocument, str]], country: str
) -> None:
    """The ``public`` context of ``public_dialplan`` in ``section``."""
    context = add(section, "context", name=PUBLIC_CONTEXT)
    refuse_emergency(context, country)
    for document, number in matches:
        if number_destination(document, number) is None:
            continue
        # Straight to the handler, which routes every kind of destination: a transfer into
        # the tenant's context first cost a second dialplan lookup and a trip through the
        # switch's state machine, about 20 ms of post-dial delay (bench/freeswitch_calls.py).
        condition = add_extension(context, f"public {number}", exact(dialled_forms(number)))
        hand_to_handler(condition, document, number)

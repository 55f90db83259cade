"""The directory section: SIP users per extension, voicemail boxes, ring groups as groups.

Passwords leave the server only as the digest ``a1-hash`` (MD5 of ``user:realm:password``,
the realm being the tenant's SIP domain), so FreeSWITCH can check a registration without ever
holding the plain SIP password.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from provisioner.routing import dialstrings
from provisioner.routing.documents import add, add_parameters, new_document, serialize
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.extensions import Extension, VoicemailBox

# The vanilla domain dial string: ring every registered contact of the user. Each ringing leg
# also records the calling channel (``${uuid}`` is expanded on the caller's side when the
# ``user/`` endpoint resolves this string) under the user, so a colleague's BLF key
# (``*8`` + extension) can take the call over with ``intercept`` however it was placed: a
# direct call, a call flow's transfer, a ring group. See ``dialstrings.RINGING_REALM``.
DIAL_STRING = (
    "{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}"
    ":execute_on_ring='hash insert/${dialed_domain}"
    + dialstrings.RINGING_REALM_SUFFIX
    + "/${dialed_user}/${uuid}'}"
    "${sofia_contact(*/${dialed_user}@${dialed_domain})}"
)
# Lookups that authenticate a SIP device: only real extensions may answer them.
AUTH_ACTIONS = frozenset({"sip_auth", "reverse-auth-lookup"})
# Lookups we have nothing for (per-domain gateways, ACLs built from users).
UNSERVED_PURPOSES = frozenset({"gateways", "network-list"})
# The secrets each kind of lookup needs: a registration the digest hash, mod_voicemail's box
# lookup the PIN, bridging to ``user/`` (user_call) and group_call neither. mod_voicemail's
# ``message-count`` (every MWI update) only turns a number into a box id. Sofia's
# ``reverse-auth-lookup`` reads only ``reverse-auth-user``/``reverse-auth-pass`` (plain
# credentials for answering a phone's challenge), which we do not hand out: it gets the user
# without secrets. An action we do not know gets both, as it always did, so no FreeSWITCH
# feature we have not looked at breaks.
SECRETS_BY_ACTION: dict[str, frozenset[str]] = {
    "sip_auth": frozenset({"a1-hash"}),
    "reverse-auth-lookup": frozenset(),
    "voicemail-lookup": frozenset({"vm-password"}),
    "message-count": frozenset(),
    "user_call": frozenset(),
    "group_call": frozenset(),
}
ALL_SECRETS = frozenset({"a1-hash", "vm-password"})


@dataclass(frozen=True, slots=True)
class DirectoryRequest:
    """The fields of a directory lookup that decide the answer."""

    domain: str
    user: str = ""
    action: str = ""
    purpose: str = ""


@dataclass(frozen=True, slots=True)
class UserSecrets:
    """Plain secrets of one user, decrypted by the caller (the HTTP edge)."""

    sip_password: str | None = None
    voicemail_pin: str | None = None


def secrets_needed(action: str) -> frozenset[str]:
    """The secret params (``a1-hash``, ``vm-password``) a lookup with ``action`` may receive."""
    return SECRETS_BY_ACTION.get(action, ALL_SECRETS)


def a1_hash(user: str, realm: str, password: str) -> str:
    """The digest hash FreeSWITCH's ``a1-hash`` param takes."""
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()  # noqa: S324 - SIP digest


def ring_groups_of(document: TenantDocument, extension: str) -> list[str]:
    """The numbers of the ring groups ``extension`` rings in."""
    return [
        group.number
        for group in document.ring_groups
        if group.members == "all" or extension in group.members
    ]


def wanted_user(document: TenantDocument, request: DirectoryRequest) -> str | None:
    """The user the lookup asks for, if this tenant has it and may give it for this action."""
    extensions = {item.number for item in document.extensions}
    boxes = {item.number for item in document.voicemail_boxes}
    if request.user in extensions:
        return request.user
    if request.user in boxes and request.action not in AUTH_ACTIONS:
        return request.user
    return None


def directory_document(
    document: TenantDocument,
    request: DirectoryRequest,
    user_secrets: Mapping[str, UserSecrets],
) -> bytes | None:
    """The answer to a directory lookup; None when the answer is "not found"."""
    if request.purpose in UNSERVED_PURPOSES:
        return None
    root, section = new_document("directory")
    domain = add(section, "domain", name=document.sip_domain)
    add_parameters(domain, "param", {"dial-string": DIAL_STRING})
    add_parameters(
        domain,
        "variable",
        {"user_context": document.sip_domain, "domain_name": document.sip_domain},
    )
    if request.user:
        user = wanted_user(document, request)
        if user is None:
            return None
        users = add(domain, "users")
        add_user(users, document, user, user_secrets.get(user))
        return serialize(root)
    add_groups(domain, document)
    users = add(domain, "users")
    for extension in document.extensions:
        add_user(users, document, extension.number, None)
    return serialize(root)


def add_groups(
    domain: etree._Element, document: TenantDocument, groups: etree._Element | None = None
) -> None:
    """One directory group per ring group (for ``group_call``), members as pointers (in
    ``groups`` when given, else in a new ``groups`` element)."""
    if groups is None:
        groups = add(domain, "groups")
    for group in document.ring_groups:
        element = add(groups, "group", name=group.number.lstrip("*"))
        users = add(element, "users")
        for extension in document.extensions:
            if group.members == "all" or extension.number in group.members:
                add(users, "user", id=extension.number, type="pointer")


def add_user(
    users: etree._Element, document: TenantDocument, number: str, secrets_given: UserSecrets | None
) -> None:
    """A ``user`` with its params (credentials and voicemail) and variables."""
    extension = next((item for item in document.extensions if item.number == number), None)
    box = next((item for item in document.voicemail_boxes if item.number == number), None)
    element = add(users, "user", id=number)
    if secrets_given is not None:
        add_parameters(
            element, "param", _user_params(document, number, extension, box, secrets_given)
        )
    name = extension.name if extension else (box.name if box else number)
    variables = {
        "user_context": document.sip_domain,
        "domain_name": document.sip_domain,
        "effective_caller_id_name": name,
        "effective_caller_id_number": number,
    }
    groups = ring_groups_of(document, number) if extension else []
    if groups:
        variables["callgroup"] = dialstrings.pickup_key(groups[0], document.sip_domain)
    public = [item.number for item in document.numbers if item.number.startswith("+")]
    if public:
        variables["outbound_caller_id_number"] = public[0]
    add_parameters(element, "variable", variables)


def _user_params(
    document: TenantDocument,
    number: str,
    extension: Extension | None,
    box: VoicemailBox | None,
    given: UserSecrets,
) -> dict[str, str]:
    # A voicemail-only box is not a SIP account: its hash is of a throwaway secret, so no
    # device can ever register as it, even if a lookup reached it.
    password = given.sip_password if extension is not None and given.sip_password else None
    params = {
        "a1-hash": a1_hash(number, document.sip_domain, password or secrets.token_urlsafe(32))
    }
    if box is None:
        params["vm-enabled"] = "false"
        return params
    # The mail settings do not depend on the PIN: a box without one is still mailed.
    email = box.email or (extension.email if extension else None)
    params["vm-enabled"] = "true"
    if given.voicemail_pin:
        params["vm-password"] = given.voicemail_pin
    if email:
        params |= {
            "vm-mailto": email,
            "vm-email-all-messages": "true",
            "vm-attach-file": "true" if box.attach_audio else "false",
            "vm-keep-local-after-email": "true" if box.keep_local else "false",
        }
    return params

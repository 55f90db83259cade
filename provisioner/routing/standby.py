"""The standby pack: what FreeSWITCH needs to go on while provisioner cannot be reached.

FreeSWITCH asks provisioner (mod_xml_curl) for every registration and call. While provisioner
cannot be reached, the switch falls back to its static XML, which knows nothing of the
tenants: phones could not even authenticate, so 112 from a phone would fail. The switch's
watcher (``provisioner.routing.standby_watch``, run by mod_python3 as a startup script)
fetches this pack every half minute and, only once provisioner stops answering, puts it in
the static XML and reloads it; when provisioner answers again it takes it out.

The pack holds, for every tenant: its directory domain with each extension's digest hash
(``a1-hash``, never the plain password), mail settings of its voicemail boxes (no PINs: a box is
listened to by phone only while provisioner answers), its ring groups; and its whole dialplan
context (emergency numbers first) plus the ``public`` context of every public number.
Pure: the caller reads the store and decrypts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lxml import etree

from provisioner.routing import dialplan, directory
from provisioner.routing.documents import add, add_parameters, new_document, serialize
from provisioner.tenants.schema import TenantDocument

# The directory group holding a tenant's users in the pack (ring groups hold only pointers).
USERS_GROUP = "provisioner-users"


def standby_document(
    tenants: Sequence[tuple[TenantDocument, Mapping[str, directory.UserSecrets]]],
    country: str,
    gateway: str,
) -> bytes:
    """The pack: a ``directory`` and a ``dialplan`` section for every tenant."""
    root, directory_section = new_document("directory")
    for document, secrets in tenants:
        add_domain(directory_section, document, secrets)
    dialplan_section = add(root, "section", name="dialplan", description="provisioner standby")
    for document, _ in tenants:
        dialplan.tenant_context(dialplan_section, document, gateway)
    public = [
        (document, item.number)
        for document, _ in tenants
        for item in document.numbers
        if item.number.startswith("+")
    ]
    dialplan.add_public_context(dialplan_section, public, country)
    return serialize(root)


def add_domain(
    section: etree._Element,
    document: TenantDocument,
    secrets: Mapping[str, directory.UserSecrets],
) -> None:
    """One tenant's domain with every extension and voicemail box as a user.

    A domain with groups is searched for users in its groups only (switch_xml.c,
    ``switch_xml_locate_user_in_domain``), first match first: the users stand in a first
    group of their own, the ring groups' pointers after it."""
    domain = add(section, "domain", name=document.sip_domain)
    add_parameters(domain, "param", {"dial-string": directory.DIAL_STRING})
    add_parameters(
        domain,
        "variable",
        {"user_context": document.sip_domain, "domain_name": document.sip_domain},
    )
    groups = add(domain, "groups")
    users = add(add(groups, "group", name=USERS_GROUP), "users")
    directory.add_groups(domain, document, groups)
    numbers = [item.number for item in document.extensions]
    numbers += [box.number for box in document.voicemail_boxes if box.number not in numbers]
    for number in numbers:
        directory.add_user(users, document, number, secrets.get(number, directory.UserSecrets()))

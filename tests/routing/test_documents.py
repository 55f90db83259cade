"""The mod_xml_curl documents for the demo tenant, parsed and compared to the demo data, and
every document checked against the RelaxNG schemas in provisioner/routing/schemas/."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from provisioner.routing import documents
from provisioner.routing.callcenter import callcenter_document
from provisioner.routing.dialplan import public_dialplan, tenant_dialplan
from provisioner.routing.directory import (
    DirectoryRequest,
    UserSecrets,
    a1_hash,
    directory_document,
    secrets_needed,
)
from provisioner.tenants.numbers import emergency_numbers
from provisioner.tenants.schema.numbers import Number
from tests.routing.conftest import DOMAIN, demo_document
from tests.routing.dialplan_evaluator import route_number

SECRETS = {"240": UserSecrets("marc-secret-password", "4321"), "8000": UserSecrets(None, "1234")}


def parse(content: bytes) -> etree._Element:
    return etree.fromstring(content)


def params(element: etree._Element, tag: str = "param") -> dict[str, str]:
    return {item.get("name"): item.get("value") for item in element.iterfind(f"{tag}s/{tag}")}


def full_directory() -> bytes:
    content = directory_document(demo_document(), DirectoryRequest(domain=DOMAIN), {})
    assert content is not None
    return content


def test_full_directory_lists_every_extension_with_its_name():
    document = demo_document()
    root = parse(full_directory())
    domain = root.find("section[@name='directory']/domain")
    assert domain.get("name") == DOMAIN
    users = domain.findall("users/user")
    assert [user.get("id") for user in users] == [item.number for item in document.extensions]
    for user, extension in zip(users, document.extensions, strict=True):
        variables = params(user, "variable")
        assert variables["effective_caller_id_name"] == extension.name
        assert variables["effective_caller_id_number"] == extension.number
        assert variables["user_context"] == DOMAIN
        assert variables["callgroup"] == f"8500@{DOMAIN}"
        assert variables["outbound_caller_id_number"] == "+31202103356"
        assert user.find("params") is None  # no credentials in a listing


def test_ring_groups_are_directory_groups_of_their_members():
    root = parse(full_directory())
    group = root.find("section/domain/groups/group[@name='8500']")
    members = [user.get("id") for user in group.iterfind("users/user")]
    assert members == ["240", "241", "242", "243"]  # ALLEN: members: all
    assert {user.get("type") for user in group.iterfind("users/user")} == {"pointer"}


def test_registration_lookup_gives_the_digest_hash_and_voicemail_settings():
    request = DirectoryRequest(domain=DOMAIN, user="240", action="sip_auth")
    root = parse(directory_document(demo_document(), request, SECRETS))
    users = root.findall("section/domain/users/user")
    assert [user.get("id") for user in users] == ["240"]
    values = params(users[0])
    assert values["a1-hash"] == a1_hash("240", DOMAIN, "marc-secret-password")
    assert "password" not in values  # the plain SIP password never leaves the server
    assert values["vm-password"] == "4321"
    assert values["vm-enabled"] == "true"
    assert values["vm-mailto"] == "marc@demo.example.net"


def test_a_voicemail_only_box_cannot_register():
    document = demo_document()
    sip_auth = DirectoryRequest(domain=DOMAIN, user="8000", action="sip_auth")
    assert directory_document(document, sip_auth, SECRETS) is None
    lookup = DirectoryRequest(domain=DOMAIN, user="8000", action="voicemail-lookup")
    root = parse(directory_document(document, lookup, SECRETS))
    values = params(root.find("section/domain/users/user"))
    assert values["vm-password"] == "1234"
    assert values["vm-mailto"] == "info@demo.example.net"
    assert values["a1-hash"] != a1_hash("8000", DOMAIN, "")


def test_a_box_without_a_pin_still_mails_its_messages():
    lookup = DirectoryRequest(domain=DOMAIN, user="8000", action="voicemail-lookup")
    root = parse(directory_document(demo_document(), lookup, {"8000": UserSecrets(None, None)}))
    values = params(root.find("section/domain/users/user"))
    assert "vm-password" not in values
    assert values["vm-enabled"] == "true"
    assert values["vm-mailto"] == "info@demo.example.net"
    assert values["vm-email-all-messages"] == "true"
    assert values["vm-attach-file"] == "true"


@pytest.mark.parametrize(
    "action, needed",
    [
        ("sip_auth", {"a1-hash"}),
        ("voicemail-lookup", {"vm-password"}),
        ("message-count", set()),
        ("reverse-auth-lookup", set()),
        ("user_call", set()),
        ("group_call", set()),
    ],
)
def test_each_lookup_gets_only_the_secrets_freeswitch_reads_for_it(action, needed):
    assert secrets_needed(action) == needed


@pytest.mark.parametrize(
    "request_",
    [
        DirectoryRequest(domain=DOMAIN, user="299", action="sip_auth"),
        DirectoryRequest(domain=DOMAIN, user="240", purpose="gateways"),
        DirectoryRequest(domain=DOMAIN, purpose="network-list"),
    ],
    ids=["unknown user", "gateways", "network list"],
)
def test_lookups_we_do_not_serve_are_not_found(request_):
    assert directory_document(demo_document(), request_, SECRETS) is None


def test_user_call_lookup_is_served():
    request = DirectoryRequest(domain=DOMAIN, user="241", action="user_call")
    root = parse(directory_document(demo_document(), request, {"241": UserSecrets("x" * 16)}))
    domain = root.find("section/domain")
    assert "sofia_contact" in params(domain)["dial-string"]
    assert [user.get("id") for user in domain.iterfind("users/user")] == ["241"]


# --- Dialplan --------------------------------------------------------------------------------


def tenant_plan() -> bytes:
    return tenant_dialplan(demo_document(), "provider")


def test_tenant_context_is_named_after_the_domain_and_starts_with_emergency():
    root = parse(tenant_plan())
    contexts = root.findall("section[@name='dialplan']/context")
    assert [context.get("name") for context in contexts] == [DOMAIN]
    assert contexts[0].find("extension").get("name") == "emergency"


def test_tenant_context_lists_what_the_demo_defines_in_order():
    document = demo_document()
    names = [
        item.get("name") for item in parse(tenant_plan()).iterfind("section/context/extension")
    ]
    assert names == [
        "emergency",
        *(f"extension {item.number}" for item in document.extensions),
        "group pickup",
        "directed pickup",
        "own voicemail",
        "any voicemail",
        *(f"number {item.number}" for item in document.numbers),
        *(f"number {item.number}" for item in document.ring_groups),
        "outside",
    ]


@pytest.mark.parametrize("extension", ["240", "241", "242", "243"])
def test_star_8_and_an_extension_takes_the_call_ringing_there_and_never_an_answered_one(
    extension,
):
    name, actions = route_number(tenant_plan(), DOMAIN, f"*8{extension}")
    assert name == "directed pickup"
    assert actions == [
        ("set", "intercept_unanswered_only=true"),
        ("intercept", f"${{hash(select/{DOMAIN}-ringing/{extension})}}"),
        ("hangup", "NO_ANSWER"),
    ]


def test_star_8_and_a_ring_group_number_is_still_the_ring_group():
    assert route_number(tenant_plan(), DOMAIN, "*8500")[0] == "number *8500"


def test_every_ringing_leg_records_its_caller_for_directed_pickup():
    request = DirectoryRequest(domain=DOMAIN, user="241", action="user_call")
    root = parse(directory_document(demo_document(), request, {"241": UserSecrets("x" * 16)}))
    dial_string = params(root.find("section/domain"))["dial-string"]
    assert (
        "execute_on_ring='hash insert/${dialed_domain}-ringing/${dialed_user}/${uuid}'"
        in dial_string
    )


@pytest.mark.parametrize("extension", ["240", "241", "242", "243"])
def test_each_extension_rings_its_user(extension):
    name, actions = route_number(tenant_plan(), DOMAIN, extension)
    assert name == f"extension {extension}"
    assert ("bridge", f"user/{extension}@{DOMAIN}") in actions
    has_voicemail = ("voicemail", f"default {DOMAIN} {extension}") in actions
    assert has_voicemail == (extension == "240")  # only Marc has a box of his own


@pytest.mark.parametrize("number", ["5000", "+31202103356", "*8500"])
def test_flow_and_group_numbers_go_to_the_handler(number):
    name, actions = route_number(tenant_plan(), DOMAIN, number)
    assert name == f"number {number}"
    assert ("python", f"provisioner.callrouting demo {number}") in actions
    assert actions[-1] == ("hangup", "")


def test_star_codes():
    assert route_number(tenant_plan(), DOMAIN, "*8")[1] == [("pickup", "${callgroup}")]
    assert ("voicemail", f"check default {DOMAIN} ${{user_name}}") in route_number(
        tenant_plan(), DOMAIN, "*97"
    )[1]
    assert ("voicemail", f"check default {DOMAIN}") in route_number(tenant_plan(), DOMAIN, "*98")[1]


def test_outside_numbers_go_out_with_the_main_number_as_caller_id():
    name, actions = route_number(tenant_plan(), DOMAIN, "0612345678")
    assert name == "outside"
    assert ("set", "effective_caller_id_number=+31202103356") in actions
    assert ("bridge", "sofia/gateway/provider/0612345678") in actions


@pytest.mark.parametrize("form", ["+31202103356", "31202103356", "0031202103356", "0202103356"])
def test_public_number_in_every_carrier_form_goes_to_the_tenants_route_of_it(form):
    plan = public_dialplan([(demo_document(), "+31202103356")], "NL", "provider")
    name, actions = route_number(plan, "public", form)
    assert name == "public +31202103356"
    assert actions == [
        ("set", f"domain_name={DOMAIN}"),
        ("python", "provisioner.callrouting demo +31202103356"),
        ("hangup", ""),
    ]


EMERGENCY = emergency_numbers("NL")


@pytest.mark.parametrize("number", EMERGENCY)
def test_emergency_numbers_never_enter_a_flow_in_any_context(number):
    document = demo_document()
    # Even a number that validation would refuse cannot capture an emergency number.
    document.numbers.append(Number(number=number, destination="call_flow:Hoofdroute"))
    plans = {
        DOMAIN: tenant_dialplan(document, "provider"),
        "public": public_dialplan([(document, "+31202103356")], "NL", "provider"),
    }
    name, actions = route_number(plans[DOMAIN], DOMAIN, number)
    assert name == "emergency"
    assert ("bridge", f"sofia/gateway/provider/{number}") in actions
    assert all(application != "python" for application, _ in actions)
    # From the public side (carriers, the internet) nobody may use our trunk for it either.
    name, actions = route_number(plans["public"], "public", number)
    assert name == "emergency-refused"
    assert ("hangup", "CALL_REJECTED") in actions
    assert all(application not in ("python", "bridge") for application, _ in actions)


def test_every_extension_reaches_the_emergency_extension():
    """Every user's context (from the directory) routes 112 straight out."""
    contexts = {
        variable.get("value")
        for variable in parse(full_directory()).iterfind(
            "section/domain/users/user/variables/variable[@name='user_context']"
        )
    }
    assert contexts == {DOMAIN}
    assert route_number(tenant_plan(), DOMAIN, "112")[0] == "emergency"


# --- callcenter.conf -------------------------------------------------------------------------


def test_callcenter_conf_has_the_demo_queue_agents_and_tiers():
    root = parse(callcenter_document([demo_document()]))
    configuration = root.find("section[@name='configuration']/configuration")
    assert configuration.get("name") == "callcenter.conf"
    queue = configuration.find("queues/queue")
    assert queue.get("name") == f"wachtrij-1@{DOMAIN}"
    values = {param.get("name"): param.get("value") for param in queue.iterfind("param")}
    assert values["strategy"] == "longest-idle-agent"
    assert values["max-wait-time"] == "120"
    agents = [agent.get("name") for agent in configuration.iterfind("agents/agent")]
    assert agents == [f"{number}@{DOMAIN}" for number in ("240", "241", "242")]
    tiers = [
        (tier.get("agent"), tier.get("queue")) for tier in configuration.iterfind("tiers/tier")
    ]
    assert tiers == [(agent, f"wachtrij-1@{DOMAIN}") for agent in agents]


def test_a_step_with_its_own_maximum_wait_gets_a_queue_variant():
    document = demo_document()
    step = next(step for step in document.call_flows[0].steps if step.type == "WACHTRIJ")
    step.max_wait = 45
    root = parse(callcenter_document([document]))
    names = [queue.get("name") for queue in root.iterfind("section/configuration/queues/queue")]
    assert names == [f"wachtrij-1@{DOMAIN}", f"wachtrij-1-45s@{DOMAIN}"]


# --- Schemas ---------------------------------------------------------------------------------


def every_document() -> list[tuple[str, bytes, str]]:
    document = demo_document()
    request = DirectoryRequest(domain=DOMAIN, user="240", action="sip_auth")
    return [
        ("not found", documents.not_found(), "not-found"),
        ("directory listing", full_directory(), "directory"),
        ("directory user", directory_document(document, request, SECRETS), "directory"),
        ("tenant dialplan", tenant_plan(), "dialplan"),
        (
            "public dialplan",
            public_dialplan([(document, "+31202103356")], "NL", "provider"),
            "dialplan",
        ),
        ("callcenter.conf", callcenter_document([document]), "callcenter"),
    ]


@pytest.mark.parametrize(
    "label, content, schema", every_document(), ids=lambda value: str(value)[:20]
)
def test_every_document_matches_its_schema(label, content, schema):
    assert documents.check(content, schema) == []


@pytest.mark.parametrize(
    "schema, broken",
    [
        (
            "dialplan",
            lambda text: re.sub(r'application="[a-z_]+"', 'application="brige"', text, count=1),
        ),
        (
            "directory",
            lambda text: re.sub(
                r'name="a1-hash" value="[0-9a-f]+"', 'name="a1-hash" value="x"', text
            ),
        ),
        ("callcenter", lambda text: text.replace("longest-idle-agent", "longest-idle")),
        ("not-found", lambda text: text.replace("not found", "missing")),
    ],
    ids=["unknown application", "bad a1-hash", "unknown strategy", "wrong status"],
)
def test_the_schemas_reject_broken_documents(schema, broken):
    source = {label_schema: content for _, content, label_schema in every_document()}
    if schema == "directory":
        source["directory"] = every_document()[2][1]
    text = source[schema].decode()
    mutated = broken(text)
    assert mutated != text
    assert documents.check(mutated.encode(), schema) != []

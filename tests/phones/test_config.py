"""The vendor-neutral config from any tenant the API accepts: names are free text there."""

from __future__ import annotations

import pytest
from lxml import etree

from provisioner.phones.config import phone_config
from provisioner.phones.vendors import by_name
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.devices import Phone
from provisioner.tenants.validation import check_document
from provisioner.tenants.yaml_io import read_tenant_file
from tests.conftest import DEMO_FILE
from tests.phones.readers import READERS
from tests.phones.test_golden import BASE_URL, CASES, IDS, SECRETS

# Names a tenant may hold (up to 100 characters, any text) that no phone label allows as is.
NAMES = {
    "240": 'Marc "MJ" & Co <sales>; $MA',
    "241": "Klantenservice en Technische Ondersteuning, Afdeling Noord-Holland Zuid",
    "242": "Pieter\tde Vries",
}


def awkward_document() -> TenantDocument:
    document, _ = read_tenant_file(DEMO_FILE)
    data = document.model_dump()
    for extension in data["extensions"]:
        extension["name"] = NAMES.get(extension["number"], extension["name"])
    awkward = TenantDocument.model_validate(data)
    check_document(awkward)  # the tenant accepts these names
    return awkward


@pytest.mark.parametrize(("vendor", "model", "mac"), CASES, ids=IDS)
def test_any_accepted_name_still_renders(vendor: str, model: str, mac: str) -> None:
    phone = Phone(mac=mac, vendor=vendor, model=model, lines=["240"])
    config = phone_config(awkward_document(), phone, model, SECRETS, BASE_URL)
    body = by_name(vendor).render_device(config, by_name(vendor).device_file(mac, model))
    facts = READERS[vendor]({"device": body})
    assert facts.user == "240" and facts.password == "Marc240Secret0"


@pytest.mark.parametrize("vendor", ["cisco_mpp", "cisco_spa"])
def test_cisco_key_names_cannot_add_fields_or_macros(vendor: str) -> None:
    """``Extended_Function`` is ``;``-separated and macro-expanded: a name must not add a field
    or expand ``$MA``."""
    mac, model = next((mac, model) for name, model, mac in CASES if name == vendor)
    phone = Phone(mac=mac, vendor=vendor, model=model, lines=["241"])
    config = phone_config(awkward_document(), phone, model, SECRETS, BASE_URL)
    body = by_name(vendor).render_device(config, by_name(vendor).device_file(mac, model))
    for node in etree.fromstring(body).iter():
        if str(node.tag).startswith("Extended_Function"):
            fields = [part.split("=", 1)[0] for part in (node.text or "").split(";")]
            assert set(fields) <= {"fnc", "sub", "ext", "nme"}, node.text
            assert (node.text or "").replace("$PROXY", "").count("$") == 0, node.text

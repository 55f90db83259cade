"""The tenant's phone admin password: generated once, even when two first boots race."""

from __future__ import annotations

from pathlib import Path

from provisioner.pairing.credentials import tenant_admin_password
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from provisioner.tenants.repository import find_tenant
from tests.conftest import import_demo, make_app


def test_two_first_boots_agree_on_the_admin_password(tmp_path: Path, database_url: str) -> None:
    app = make_app(tmp_path, database_url)
    import_demo(app)
    store, box = get_store(app), get_secret_box(app)
    with store.transaction() as slow:
        tenant = find_tenant(slow, "demo")  # no admin password yet, as this request sees it
        assert tenant.phone_admin_password_encrypted is None
        with store.transaction() as fast:
            first = tenant_admin_password(fast, box, find_tenant(fast, "demo"))
        second = tenant_admin_password(slow, box, tenant)
    assert second == first
    with store.reading() as session:
        assert tenant_admin_password(session, box, find_tenant(session, "demo")) == first
    store.dispose()

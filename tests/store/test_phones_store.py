"""The phone tables and columns on SQLite and PostgreSQL: pair, boot, timeline, unpair."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from provisioner.store import get_store, models
from tests.conftest import import_demo, make_app, token_for

UA = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:56"


def test_pairing_and_booting_on_each_database(tmp_path: Path, database_url: str) -> None:
    app = make_app(tmp_path, database_url)
    try:
        import_demo(app)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token_for(app, 'admin')}"}
        keys = {
            "function_keys": [{"type": "speed_dial", "value": "*8500", "label": "ALLEN"}],
            "overrides": {"features.dnd.enable": "1"},
        }
        assert (
            client.patch(
                "/api/v1/tenants/demo/phones/805ec0123456", json=keys, headers=headers
            ).status_code
            == 200
        )
        settings = {"provisioning": {"vlan": 20, "transport": "tls"}}
        assert (
            client.patch("/api/v1/tenants/demo", json=settings, headers=headers).status_code == 200
        )
        paired = client.post(
            "/api/v1/tenants/demo/phones/805ec0123456/pairing",
            json={"extension": "240"},
            headers=headers,
        )
        assert paired.status_code == 201
        body = client.get("/p/805ec0123456.cfg", headers={"User-Agent": UA}).data.decode()
        assert "static.network.vlan.internet_port_vid = 20" in body
        assert "account.1.sip_server.1.transport_type = 2" in body
        assert "linekey.2.value = *8500" in body and "features.dnd.enable = 1" in body
        timeline = client.get("/api/v1/tenants/demo/phones/805ec0123456/timeline", headers=headers)
        assert [item["answer"] for item in timeline.json["items"]] == ["full"]
        assert (
            client.delete(
                "/api/v1/tenants/demo/phones/805ec0123456/pairing", headers=headers
            ).status_code
            == 204
        )
        with get_store(app).reading() as session:
            assert session.scalar(select(func.count()).select_from(models.DeviceCredential)) == 0
            tenant = session.scalar(select(models.Tenant))
            assert tenant is not None and tenant.phone_admin_password_encrypted
            assert tenant.provisioning["vlan"] == 20
    finally:
        get_store(app).dispose()

"""What the provider puts on a router once so that it fetches its configuration by itself,
per vendor: it names the router's fetch URL (its secret in it), so handing it out is audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from provisioner.network.routers.context import done_url
from provisioner.network.routers.render import checked_value
from provisioner.network.routers.vendors import router_vendor
from provisioner.network.routers.zerotouch import FIRST_FILE, find_router
from provisioner.security import audit
from provisioner.security.secrets import SecretBox

# OpenWrt runs /etc/uci-defaults/ from its boot script (START=10), before the network (START=20)
# is up: the bootstrap fetches nothing itself. It installs a service (START=99) that fetches with
# retries and runs what it fetched; the service removes itself once that applied (exit 0), and
# stays for the next boot when it did not. A fetch is tried every 30 s for 30 minutes per boot.
# The bootstrap also starts it: procd lists /etc/rc.d/S* once, before it runs the boot script,
# so a service enabled from uci-defaults would first run at the next boot (and one enabled from
# a console, at the next reboot); started now, its retries wait for the network.
OPENWRT_BOOTSTRAP = """#!/bin/sh
# /etc/uci-defaults/99-provisioner: installs and starts the provisioner fetch service
# (it retries until the network is up).
cat > /etc/init.d/provisioner <<'PROVISIONER_SERVICE'
#!/bin/sh /etc/rc.common
START=99
URL='@URL@'
fetch_and_apply() {
\ttries=0
\twhile [ "$tries" -lt 60 ]; do
\t\ttries=$((tries + 1))
\t\tif wget -q -O /tmp/provisioner.sh "$URL"; then
\t\t\tsh /tmp/provisioner.sh || return 1
\t\t\t/etc/init.d/provisioner disable
\t\t\trm -f /etc/init.d/provisioner
\t\t\treturn 0
\t\tfi
\t\tsleep 30
\tdone
\treturn 1
}
start() {
\tfetch_and_apply </dev/null >/dev/null 2>&1 &
}
PROVISIONER_SERVICE
chmod +x /etc/init.d/provisioner
/etc/init.d/provisioner enable
/etc/init.d/provisioner start
exit 0
"""


def bootstrap_commands(
    session: Session, box: SecretBox, tenant_name: str, name: str, base_url: str, actor: str
) -> dict[str, str]:
    """What the provider puts on the router once so it fetches by itself; the secret in it
    is released, so this is audited."""
    row = find_router(session, tenant_name, name)
    secret = box.decrypt(row.fetch_secret_encrypted)
    vendor = router_vendor(row.vendor)
    url = checked_value(
        vendor, f"{base_url.rstrip('/')}/z/{row.serial}/{secret}/{FIRST_FILE[row.vendor]}"
    )
    done = checked_value(vendor, done_url(base_url, row.serial, secret))
    commands = {
        "mikrotik": (
            f'/tool fetch url="{url}" dst-path=provisioner.rsc\n'
            ":delay 3s\n:do {/import file-name=provisioner.rsc} on-error={"
            f'/tool fetch url="{done}" http-method=post '
            'http-data="outcome=failed&reason=import+failed" output=none}\n'
        ),
        "openwrt": OPENWRT_BOOTSTRAP.replace("@URL@", url),
        "cisco_ios": f"copy {url} running-config\n",
    }
    audit.record(
        session, actor, "release-secret", "routers", name, tenant_name,
        {"fields": ["fetch_secret"], "via": "api bootstrap"},
    )  # fmt: skip
    return {"vendor": row.vendor, "url": url, "bootstrap": commands[row.vendor]}

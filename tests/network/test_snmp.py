"""The pysnmp edge without an agent: what its values show."""

from __future__ import annotations

from provisioner.network.poller import PollJob
from provisioner.network.snmp import Credentials, Target


def test_credentials_never_show_their_secrets() -> None:
    # A PollJob or Target in a log line, a traceback or a failed test's output must not
    # carry the community or the v3 keys in clear text.
    v2c = Credentials("2c", community="s3cret-community")
    v3 = Credentials("3", user="monsha", auth_key="auth-s3cret", priv_key="priv-s3cret")
    job = PollJob(1, "rt", Target("127.0.0.1", 161, v3), 300)
    shown = f"{v2c!r} {job!r} {job.target!s}"
    for secret in ("s3cret-community", "auth-s3cret", "priv-s3cret"):
        assert secret not in shown
    assert "monsha" in shown  # the user name is not a secret and helps

"""The request log's paths: secrets a path carries never reach the log."""

from __future__ import annotations

import pytest

from provisioner.http.request_log import redacted_path


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/z/HE7A1B2C3D4/s3cret/autoconf.rsc", "/z/HE7A1B2C3D4/[redacted]/autoconf.rsc"),
        ("/z//s3cret/x", "/z//[redacted]/x"),
        ("/z/HE7A1B2C3D4/s3cret", "/z/HE7A1B2C3D4/[redacted]"),  # no file: still hidden
        (
            "/p/firmware/805ec0123456/0123456789abcdef0123456789abcdef/T46U.rom",
            "/p/firmware/805ec0123456/[redacted]/T46U.rom",
        ),
        ("/p/805ec0123456.cfg", "/p/805ec0123456.cfg"),
        ("/api/v1/tenants/demo", "/api/v1/tenants/demo"),
    ],
    ids=["zero-touch", "empty-serial", "two-parts", "firmware", "phone", "api"],
)
def test_secrets_in_paths_are_redacted(path: str, logged: str) -> None:
    assert redacted_path(path) == logged

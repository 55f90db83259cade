"""FAX (with EMAILADRES) on a real switch: a fax sent with spandsp arrives as a mail with the
document as PDF."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.agents import SipLab
from tests.e2e.mail import MailSink
from tests.e2e.switch import FreeSwitch

FAX_NUMBER = "+31202106003"
WIDTH, HEIGHT = 1728, 400  # a fax line is 1728 dots wide


def fax_document(folder: Path) -> Path:
    """A one-page fax as spandsp sends it: bilevel, CCITT G3, 204 x 196 dpi (libtiff's tools)."""
    page = folder / "page.pbm"
    rows = (
        bytes(0xFF if (column // 8) % 4 == 0 else 0 for column in range(WIDTH // 8))
        if (row // 20) % 2 == 0
        else bytes(WIDTH // 8)
        for row in range(HEIGHT)
    )
    page.write_bytes(f"P4\n{WIDTH} {HEIGHT}\n".encode() + b"".join(rows))
    plain, fax = folder / "page.tif", folder / "fax.tif"
    for command in (
        ["ppm2tiff", "-R", "204", str(page), str(plain)],
        ["tiffcp", "-c", "g3:1d", "-r", "9999", str(plain), str(fax)],
        ["tiffset", "-s", "283", "196", str(fax)],
    ):
        subprocess.run(command, check=True, capture_output=True)
    return fax


@pytest.mark.timeout(300)
def test_a_fax_to_the_fax_number_arrives_as_a_mail_with_the_document(
    switch: FreeSwitch, sip_lab: SipLab, mail: MailSink, lab_folder: Path
) -> None:
    document = fax_document(lab_folder)
    before = len(mail.received())
    answer = switch.api(
        "originate {origination_caller_id_number=0201234567}"
        f"loopback/{FAX_NUMBER}/public &txfax({document})"
    )
    assert answer.startswith("+OK"), answer
    sip_lab.wait_until(lambda: len(mail.received()) > before, 180, "the fax to be mailed")
    message = mail.received()[-1]
    assert "fax@demo.example.net" in message["X-Envelope-To"]
    attachments = list(message.iter_attachments())
    assert attachments, message.as_string()[:2000]
    assert attachments[0].get_content().startswith(b"%PDF")

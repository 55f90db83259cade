"""Delivering a received fax: TIFF to PDF with ``tiff2pdf``, mailed by FreeSWITCH's mailer."""

from __future__ import annotations

import subprocess
from typing import Any

CONVERT_TIMEOUT_SECONDS = 60


def tiff_to_pdf(tiff_path: str) -> str:
    """Convert with ``tiff2pdf`` (Debian package libtiff-tools); return the PDF's path."""
    pdf_path = tiff_path.rsplit(".", 1)[0] + ".pdf"
    subprocess.run(
        ["tiff2pdf", "-o", pdf_path, tiff_path],
        check=True,
        capture_output=True,
        timeout=CONVERT_TIMEOUT_SECONDS,
    )
    return pdf_path


def header_text(value: str) -> str:
    """``value`` on one line: a caller ID must not add header lines to the mail."""
    return " ".join(value.split())


def mail_headers(email: str, sender: str, caller: str) -> str:
    """The headers of the fax mail. switch_simple_email writes only the headers it is given,
    and with ``mailer-app-args=-t`` the mailer takes the recipients from them (Exim then drops
    the address on the command line), so To: and From: must be here."""
    return (
        f"From: {header_text(sender)}\n"
        f"To: {header_text(email)}\n"
        f"Subject: Fax van {header_text(caller)}"
    )


def deliver_fax(freeswitch: Any, tiff_path: str, email: str, sender: str, caller: str) -> None:
    """Mail the fax as PDF through ``freeswitch.email`` (the core ``mailer-app``)."""
    pdf_path = tiff_to_pdf(tiff_path)
    freeswitch.email(
        email,
        sender,
        mail_headers(email, sender, caller),
        f"In de bijlage staat de fax die {header_text(caller)} heeft gestuurd.",
        pdf_path,
    )

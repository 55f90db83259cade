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


def deliver_fax(freeswitch: Any, tiff_path: str, email: str, sender: str, caller: str) -> None:
    """Mail the fax as PDF through ``freeswitch.email`` (the core ``mailer-app``)."""
    pdf_path = tiff_to_pdf(tiff_path)
    freeswitch.email(
        email,
        sender,
        f"Subject: Fax van {caller}",
        f"In de bijlage staat de fax die {caller} heeft gestuurd.",
        pdf_path,
    )

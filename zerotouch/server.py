"""The HTTP and TFTP edge: fetch a vendor's first file as its phone would, report a discovered
phone."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import tempfile
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from zerotouch.verdict import FetchResult

BODY_START = 256
TFTP_PORT = 69


def _opener(ca_file: str | None) -> urllib.request.OpenerDirector:
    """Phones on the LAN do not use the laptop's proxy; neither do we. With ``ca_file``, HTTPS
    trusts that bundle (what the phones trust), else the laptop's own."""
    context = ssl.create_default_context(cafile=ca_file)
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )


def fetch_file(
    url: str, user_agent: str, timeout: float, ca_file: str | None = None
) -> FetchResult:
    """Fetch ``url`` as the phone would (HTTP(S) with its User-Agent, or TFTP): what came back,
    or why nothing did and whether a phone would meet the same."""
    if urlsplit(url).scheme == "tftp":
        return fetch_over_tftp(url, timeout)
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    try:
        with _opener(ca_file).open(request, timeout=timeout) as response:
            return FetchResult(url, response.status, response.read(BODY_START))
    except urllib.error.HTTPError as exc:
        return FetchResult(url, exc.code)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return _unreached(url, getattr(exc, "reason", exc), ca_file)


def _unreached(url: str, reason: object, ca_file: str | None) -> FetchResult:
    """Why nothing came, in words, and whether a phone would meet it too."""
    if isinstance(reason, ssl.SSLCertVerificationError):
        if ca_file:
            why = f"its certificate is not trusted by {ca_file}: {reason.verify_message}"
            return FetchResult(url, None, error=why, certain=True)
        why = (
            f"the laptop does not trust its certificate ({reason.verify_message}); the phones' "
            "trust store decides: give the CA bundle they trust with --ca"
        )
        return FetchResult(url, None, error=why, certain=False)
    if isinstance(reason, ConnectionRefusedError):
        return FetchResult(url, None, error="connection refused", certain=True)
    if isinstance(reason, socket.gaierror):
        host = urlsplit(url).hostname
        why = f"the laptop's DNS does not know {host}; phones ask the DNS servers the offer names"
        return FetchResult(url, None, error=why, certain=False)
    if isinstance(reason, TimeoutError | socket.timeout):
        return FetchResult(url, None, error="no answer in time", certain=False)
    return FetchResult(url, None, error=str(reason), certain=False)


def fetch_over_tftp(url: str, timeout: float) -> FetchResult:
    """RRQ the file over TFTP: a TFTP error is a refusal, silence is no answer."""
    import tftpy

    logging.getLogger("tftpy").setLevel(logging.CRITICAL)
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or TFTP_PORT
    with tempfile.TemporaryFile() as output:
        try:
            client = tftpy.TftpClient(host, port)
            client.download(parts.path.lstrip("/"), output, timeout=max(timeout / 3, 1), retries=2)
        except tftpy.TftpShared.TftpTimeout:
            return FetchResult(url, None, error="no TFTP answer in time", certain=False)
        except tftpy.TftpShared.TftpFileNotFoundError:
            return FetchResult(url, None, error="TFTP: file not found", certain=True)
        except tftpy.TftpShared.TftpException as exc:
            return FetchResult(url, None, error=f"TFTP: {exc}", certain=True)
        except OSError as exc:
            return _unreached(url, exc, None)
        output.seek(0)
        return FetchResult(url, 200, output.read(BODY_START))


def report_discovered(server: str, token: str, report: dict[str, Any], timeout: float) -> int:
    """POST one discovered phone to ``server``'s API; the HTTP status (0: no answer)."""
    url = server.rstrip("/") + "/api/v1/discovered"
    request = urllib.request.Request(
        url,
        data=json.dumps(report).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with _opener(None).open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0

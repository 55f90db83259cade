"""Mail as an operator sets it up (docs/freeswitch.md §7), caught on loopback.

FreeSWITCH's core mailer runs ``<mailer-app> -f <from> <mailer-app-args> <to>`` with the
message on standard input. In the lab the mailer is Debian's ``msmtp`` (the MTA the guide
suggests), configured to hand everything to an SMTP server on 127.0.0.1 that keeps the
messages for the tests to read.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tests.e2e.switch_config import free_port

MSMTP = Path("/usr/bin/msmtp")


@dataclass
class MailSink:
    """An SMTP server on loopback keeping every message, and the mailer command for it."""

    controller: Controller
    sendmail: Path
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(cls, folder: Path) -> MailSink:
        """Listen on a free port; write a ``sendmail`` wrapper running msmtp against it."""
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        sink = cls.__new__(cls)
        sink.messages = []
        sink.lock = threading.Lock()
        sink.controller = Controller(Handler(sink), hostname="127.0.0.1", port=port)
        sink.controller.start()
        configuration = folder / "msmtprc"
        configuration.write_text(
            "defaults\nauth off\ntls off\nlogfile "
            + str(folder / "msmtp.log")
            + f"\naccount lab\nhost 127.0.0.1\nport {port}\nfrom lab@lab.invalid\n"
            + "account default : lab\n"
        )
        configuration.chmod(0o600)
        sendmail = folder / "sendmail"
        sendmail.write_text(f'#!/bin/sh\nexec {MSMTP} -C {configuration} "$@"\n')
        sendmail.chmod(0o755)
        sink.sendmail = sendmail
        return sink

    def received(self) -> list[email.message.EmailMessage]:
        """The messages so far."""
        with self.lock:
            return list(self.messages)

    def stop(self) -> None:
        """Stop listening."""
        self.controller.stop()


@dataclass
class Handler:
    """aiosmtpd's handler: keep each message parsed."""

    sink: MailSink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self.sink.lock:
            self.sink.messages.append(message)
        return "250 OK"

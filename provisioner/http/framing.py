"""Requests whose length is ambiguous are refused: Content-Length and Transfer-Encoding together.

RFC 9112 section 6.3: such a message "ought to be handled as an error"; a proxy in front of us
that reads the other header would see a different request end (request smuggling). The WSGI
middleware refuses it under any server that passes both headers on (Werkzeug's, say);
waitress drops Transfer-Encoding before the application sees it, so ``serve`` builds its
waitress server with a parser that refuses it there. granian (the production command) reads
such a request by its Transfer-Encoding alone and closes the connection after answering (the
other choice RFC 9112 section 6.3 gives), so nothing behind it is read as a request.

A request body the application left unread is read and dropped once the answer is made
(``DrainUnreadBody``): a server that closes a connection with client bytes unread makes the
kernel reset it, and the client loses the end of an answer it had not read yet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

DRAIN_BYTES = 65536  # at most this much of an unread body is read and dropped
# waitress accepts one connection per turn of its loop, and a turn walks every open connection:
# thousands opened at once (a storm, an attack) then take seconds to accept while the queue
# fills and the kernel drops new phones' SYNs (each retried after 1 s). We take up to this many
# per turn instead, from a queue as long as the kernel allows (net.core.somaxconn caps it).
ACCEPTS_PER_TURN = 256
LISTEN_BACKLOG = 65535
AMBIGUOUS_LENGTH = "a request may not have both Content-Length and Transfer-Encoding (RFC 9112 6.3)"


class RefuseAmbiguousLength:
    """WSGI middleware: 400 for a request with both Content-Length and Transfer-Encoding."""

    def __init__(self, application: WSGIApplication) -> None:
        self.application = application

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Pass the request on, or refuse it and ask the server to close the connection."""
        if "HTTP_TRANSFER_ENCODING" in environ and environ.get("CONTENT_LENGTH"):
            body = json.dumps({"error": {"status": 400, "message": AMBIGUOUS_LENGTH}}).encode()
            start_response(
                "400 BAD REQUEST",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    ("Connection", "close"),  # what follows on the connection is not trusted
                ],
            )
            return [body]
        return self.application(environ, start_response)


class DrainUnreadBody:
    """WSGI middleware: once the answer is made, read and drop what is left of the body."""

    def __init__(self, application: WSGIApplication) -> None:
        self.application = application

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Pass the request on; the answer's ``close`` drains the body first."""
        answer = self.application(environ, start_response)
        if not has_body(environ):
            return answer
        from werkzeug.wsgi import ClosingIterator

        return ClosingIterator(answer, [lambda: drain(environ["wsgi.input"])])


def has_body(environ: WSGIEnvironment) -> bool:
    """Whether the request says it carries a body."""
    length = environ.get("CONTENT_LENGTH") or "0"
    return "HTTP_TRANSFER_ENCODING" in environ or (length.isdigit() and int(length) > 0)


def drain(body: Any, limit: int = DRAIN_BYTES) -> None:
    """Read ``body`` to its end, or ``limit`` bytes; a failing read ends it."""
    read = 0
    try:
        while read < limit and (chunk := body.read(min(16384, limit - read))):
            read += len(chunk)
    except (OSError, ValueError):
        pass


def create_waitress_server(
    application: Any, host: str, port: int, threads: int, proxy_hops: int = 0
) -> Any:
    """A waitress server for ``application`` whose parser refuses both framings with 400.

    waitress removes every ``X-Forwarded-*`` header unless told to trust a proxy; with
    ``proxy_hops`` (PROXY_HOPS) above 0 it leaves them to the app's ProxyFix, which takes only
    what the trusted proxies added. Slow and idle clients hold a connection, not a thread: the
    file limit is raised and waitress takes as many connections as it allows (its default is
    100, and then a phone waits until one is closed), watched with poll (select stops at
    descriptor 1024)."""
    from waitress.channel import HTTPChannel
    from waitress.parser import HTTPRequestParser, ParsingError
    from waitress.server import BaseWSGIServer, create_server

    class StrictParser(HTTPRequestParser):
        def parse_header(self, header_plus: bytes) -> None:
            super().parse_header(header_plus)
            # waitress has popped Transfer-Encoding; a Content-Length beside it is still here.
            if self.chunked and "CONTENT_LENGTH" in self.headers:
                raise ParsingError(AMBIGUOUS_LENGTH)

    class StrictChannel(HTTPChannel):
        parser_class = StrictParser

    listening: dict[int, Any] = {}  # every listening socket's server (a host may have several)
    from provisioner.http.production import connections_per_worker, raise_descriptor_limit

    server = create_server(
        application,
        map=listening,
        host=host,
        port=port,
        threads=threads,
        clear_untrusted_proxy_headers=proxy_hops <= 0,
        connection_limit=connections_per_worker(raise_descriptor_limit()),
        asyncore_use_poll=True,
        backlog=LISTEN_BACKLOG,
    )
    for dispatcher in list(listening.values()):
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = StrictChannel
            dispatcher.handle_accept = accepting_in_bursts(dispatcher)  # type: ignore[method-assign]
    return server


def accepting_in_bursts(listener: Any) -> Any:
    """``listener``'s accept handler taking every waiting connection (up to ACCEPTS_PER_TURN
    and the connection limit) in one turn of waitress's loop, each as waitress would."""
    accept_one = listener.handle_accept

    def handle_accept() -> None:
        for _ in range(ACCEPTS_PER_TURN):
            before = len(listener._map)
            if before >= listener.adj.connection_limit:
                return
            accept_one()
            if len(listener._map) == before:  # nothing was waiting (or the accept failed)
                return

    return handle_accept

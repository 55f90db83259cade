"""Slow-sending and idle clients held against a port by a thread of their own: the attack of
tests/http/test_production_under_attack.py and bench/slow_clients.py.

A slow client sends a GET's headers one byte every ``byte_seconds``; an idle one connects and
says nothing. A connection the server closes (or that could not open) is opened again at once,
as an attacker would."""

from __future__ import annotations

import selectors
import socket
import threading

SLOW_REQUEST = b"GET /p/y000000000000.cfg HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200


class Attack:
    """The connections, and what happened to them: ``reopened`` (closed by the server and
    opened again), ``failed`` (could not connect), ``in_place`` (every slow client has sent
    its first byte)."""

    def __init__(
        self,
        port: int,
        slow: int,
        idle: int,
        byte_seconds: float = 2.0,
        request: bytes = SLOW_REQUEST,
    ) -> None:
        self.port = port
        self.byte_seconds = byte_seconds
        self.request = request
        self.slow: list[tuple[socket.socket | None, int]] = [(None, 0)] * slow
        self.idle: list[socket.socket | None] = [None] * idle
        self.reopened = 0
        self.failed = 0
        self.in_place = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def __enter__(self) -> Attack:
        self.idle = [self._connect() for _ in self.idle]
        self.slow = [(self._connect(), 0) for _ in self.slow]
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=30)
        for connection in [*self.idle, *(connection for connection, _ in self.slow)]:
            if connection is not None:
                connection.close()

    def _connect(self) -> socket.socket | None:
        try:
            connection = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        except OSError:
            self.failed += 1
            return None
        connection.setblocking(False)
        return connection

    def _hold(self) -> None:
        while not self._stopping.wait(self.byte_seconds):
            self.slow = [self._one_more_byte(*state) for state in self.slow]
            self.in_place.set()
            for index in self._closed_idle():
                old = self.idle[index]
                if old is not None:
                    old.close()
                self.idle[index] = self._connect()
                self.reopened += 1

    def _one_more_byte(
        self, connection: socket.socket | None, sent: int
    ) -> tuple[socket.socket | None, int]:
        if connection is not None and sent < len(self.request):
            try:
                connection.send(self.request[sent : sent + 1])
                return connection, sent + 1
            except OSError:
                connection.close()
        self.reopened += 1
        return self._connect(), 0

    def _closed_idle(self) -> list[int]:
        """The positions of idle connections the server closed (or that never opened)."""
        watching = selectors.DefaultSelector()
        closed = [index for index, connection in enumerate(self.idle) if connection is None]
        for index, connection in enumerate(self.idle):
            if connection is not None:
                watching.register(connection, selectors.EVENT_READ, index)
        closed += [key.data for key, _ in watching.select(timeout=0)]
        watching.close()
        return closed

"""TFTP fixtures: a service on an ephemeral loopback port with files held in memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from provisioner.tftp import RenderFunction, TftpService

Address = tuple[str, int]


class Files:
    """A render function over a dict of names; records each call (name, client IP)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, name: str, client_host: str) -> bytes | None:
        with self.lock:
            self.calls.append((name, client_host))
        return self.files.get(name)


@pytest.fixture
def files() -> Files:
    return Files(
        {
            "hello.cfg": b"hello from provisioner\n",
            "phone.cfg": bytes(range(256)) * 20,  # 5120 bytes: an exact multiple of 512
        }
    )


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[TftpService, Address]]]:
    """Start a TftpService on host:0 with the given render and options; stopped after."""
    services: list[TftpService] = []

    def start(
        render: RenderFunction, host: str = "127.0.0.1", **options: object
    ) -> tuple[TftpService, Address]:
        service = TftpService(render, host, 0, **options)  # type: ignore[arg-type]
        services.append(service)
        return service, service.start()

    yield start
    for service in services:
        service.stop()


@pytest.fixture
def running(serve: Callable[..., tuple[TftpService, Address]], files: Files) -> Address:
    """The service over ``files``, with short retransmit timeouts; its address."""
    return serve(files, timeout_seconds=0.3, retries=3)[1]


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Poll ``condition`` for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()

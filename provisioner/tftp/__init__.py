"""TFTP for phones that boot over TFTP: the same render function as HTTP, read-only."""

from __future__ import annotations

from provisioner.tftp.service import RenderFunction, TftpService

__all__ = ["RenderFunction", "TftpService"]

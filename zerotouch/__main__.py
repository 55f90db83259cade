"""``python -m zerotouch``: the same as the ``zerotouch`` command."""

from __future__ import annotations

from zerotouch.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

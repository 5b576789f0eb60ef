"""docs/PROTOCOL.md documents every wire method the daemon serves.

A method missing from the page is one a client author cannot find, and its
compatibility promises are unwritten; so a new method fails this test until
it is documented. No daemon is needed: the method table is built directly.
"""

from __future__ import annotations

from pathlib import Path

from reverie.daemon.handlers import build_methods

PROTOCOL_DOC = Path(__file__).resolve().parent.parent / "docs" / "PROTOCOL.md"


def test_every_wire_method_is_documented() -> None:
    text = PROTOCOL_DOC.read_text(encoding="utf-8")
    missing = sorted(name for name in build_methods() if f"`{name}`" not in text)
    assert not missing, (
        f"{PROTOCOL_DOC.name} does not mention these wire methods as code spans: "
        + ", ".join(missing)
    )

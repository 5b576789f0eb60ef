"""``daemonctl uninstall-hooks``: take Reverie's hooks out of an editor's settings.

The same options as ``install-hooks``, and the same care: only entries
that run ``reverie-hook`` go, everything else stays in place; running it
again changes nothing. A Copilot CLI file of Reverie's own that is left
empty is removed. No daemon needed, and no ``reverie-hook`` either: this
works after the installation that wrote the entries is gone.
"""

from __future__ import annotations

import argparse

from reverie.client.ctl.install_hooks import add_options, apply


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser("uninstall-hooks", help="take Reverie's hooks out of an editor's settings",
                       description="Remove Reverie's hooks from an editor's settings file, "
                                   "keeping everything else in it. See docs/HOOKS.md.")
    add_options(p)
    return p


def run(args: argparse.Namespace) -> int:
    return apply(args, {})

"""Child process for the kill -9 test: concurrent writers that acknowledge on stdout.

A line ``ack <key>`` is printed only after the write carrying ``<key>`` was
acknowledged by the store, exactly as a handler would answer its client.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

from reverie.daemon.projects.registry import ProjectRegistry


async def main(data_dir: Path, root: Path, writers: int, per_writer: int) -> None:
    registry = ProjectRegistry(data_dir / "projects", data_dir / "reverie.db")
    await registry.start()
    async with registry.hold(root) as ctx:
        print(f"db {ctx.db_path}", flush=True)

        async def writer(w: int) -> None:
            for i in range(per_writer):
                key = f"w{w}-{i}"
                await ctx.log_activity("durability", key)
                sys.stdout.write(f"ack {key}\n")
                sys.stdout.flush()

        async with anyio.create_task_group() as tg:
            for w in range(writers):
                tg.start_soon(writer, w)
    print("done", flush=True)
    await registry.close_all()


if __name__ == "__main__":
    anyio.run(main, Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))

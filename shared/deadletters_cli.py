"""`python -m shared.deadletters_cli`: list a stream's dead letters, or replay them.

    python -m shared.deadletters_cli --redis-url redis://… list content.comments
    python -m shared.deadletters_cli --redis-url redis://… replay content.comments <entry id>…

The stream is named by its family ("content.comments"); `--prefix` is the deployment's
`events_stream_prefix` ("daira" unless set). A replayed event goes back on its stream,
where every group that has not handled it yet (the one it died in) handles it again and
the groups that did skip it by its id.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from redis.asyncio import Redis

from shared.deadletters import list_dead, replay_dead
from shared.outbox import stream_name


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m shared.deadletters_cli", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--prefix", default="daira", help="the events_stream_prefix setting")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="the dead letters, oldest first")
    listing.add_argument("family")
    listing.add_argument("--count", type=int, default=100)
    replay = commands.add_parser("replay", help="publish dead letters to their stream again")
    replay.add_argument("family")
    replay.add_argument("entry_ids", nargs="+")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    stream = stream_name(args.prefix, args.family)
    async with Redis.from_url(args.redis_url) as redis:
        if args.command == "list":
            for letter in await list_dead(redis, stream, count=args.count):
                event = letter.event
                described = f"{event.type} {event.id}" if event is not None else "(not an event)"
                print(
                    f"{letter.entry_id}  {described}  group={letter.group}  "
                    f"attempts={letter.attempts}  error={letter.error}"
                )
            return 0
        replayed = await replay_dead(redis, stream, args.entry_ids)
        print(f"replayed {replayed} of {len(args.entry_ids)}")
        return 0 if replayed == len(args.entry_ids) else 1


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

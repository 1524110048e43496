"""The command line of `python -m bench`: its options, their defaults and their checks."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from bench.scenarios import DEFAULT_SCENARIOS, SCENARIOS


def parse_args(argv: list[str] | None, description: str | None) -> argparse.Namespace:
    """The options, with the channels defaulted from the workers and the scenarios as a
    list of known keys."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=description)
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds each")
    parser.add_argument("--warmup", type=float, default=1.5, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent callers")
    parser.add_argument(
        "--scenarios",
        default=",".join(DEFAULT_SCENARIOS),
        help=f"comma-separated, of: {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--users",
        type=int,
        default=100_000,
        help="seeded accounts (the social graph's users: the most followed has 95%% of them)",
    )
    parser.add_argument(
        "--posts",
        type=int,
        default=100_000,
        help="seeded posts (for the content and social scenarios)",
    )
    parser.add_argument(
        "--channels",
        type=int,
        default=0,
        help="client channels (connections); default 1, or 4 per worker so the kernel "
        "spreads them over the workers",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes per service, sharing its port (SO_REUSEPORT)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--service-command",
        type=shlex.split,
        default=None,
        help="serve the users service with this command instead of "
        "`python -m services.users` (to A/B a patched server; same environment)",
    )
    parser.add_argument(
        "--content-command",
        type=shlex.split,
        default=None,
        help="the same for the content service (instead of `python -m services.content`)",
    )
    parser.add_argument(
        "--social-command",
        type=shlex.split,
        default=None,
        help="the same for the social service (instead of `python -m services.social`)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="before each scenario, wait up to this many seconds for other processes to "
        "leave the CPU alone (0: do not wait)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="pace each scenario (but Login) to this many calls/s in total; "
        "default 0: closed loop, each caller sends again as soon as it has its answer",
    )
    args = parser.parse_args(argv)
    args.channels = args.channels or (1 if args.workers == 1 else 4 * args.workers)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    return args

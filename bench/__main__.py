"""python -m bench: set everything up, run each scenario in a load process, print the table.

Exit status: 0 when every call succeeded (a MISS of a target is reported, not fatal),
1 when any scenario saw errors, 2 when the setup itself failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from contextlib import ExitStack
from dataclasses import asdict, replace
from pathlib import Path
from types import FrameType

import grpc
import psutil

from bench import (
    content_dataset,
    cpu,
    dataset,
    feed,
    moderation_dataset,
    payments_dataset,
    report,
    social_dataset,
)
from bench.backends import backends
from bench.moderation_dataset import ModerationIds
from bench.payments_calls import TIP_PREFIX
from bench.payments_dataset import PaymentsIds
from bench.plan import Result
from bench.scenarios import (
    CREATED_PREFIX,
    DEEP_USERS,
    DEFAULT_SCENARIOS,
    FLOORS,
    SCENARIOS,
    Client,
    Data,
    deep_pages,
    plan,
    warm,
)
from bench.service import ServiceProcess
from bench.social_dataset import SocialIds
from services.content import SPEC as CONTENT
from services.content.deps import POSTS_TIER
from services.moderation import SPEC as MODERATION
from services.payments import SPEC as PAYMENTS
from services.social import SPEC as SOCIAL
from services.users import SPEC as USERS
from shared.cache import Tier
from shared.service import ROOT

CACHED_IDS = 100
BATCH_POOL = 5000
CACHED_POSTS = 1000
POST_BATCH_POOL = 5000
# Follow's and React's single-use targets: more than a run at WRITES_PER_SECOND uses.
SOCIAL_WRITES = 100_000
SEED = 20240601
# Open subjects seeded, and how many of them Decide may close (one each).
MODERATION_SUBJECTS = 100_000
MODERATION_DECISIONS = 40_000
# Other processes' share of the CPU below which a scenario may start.
QUIET_THRESHOLD = 0.05
FANOUT_TARGET_SECONDS = 2.0
# Wallets funded for the tips: one of them is the hot wallet.
FUNDED_WALLETS = 10_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
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


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so every server we started is stopped."""
    raise SystemExit(128 + signum)


def run_load(plan_path: Path, timeout: float) -> Result:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.load", str(plan_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        check=False,
        timeout=timeout,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"load process exited with {completed.returncode}")
    return Result.from_json(completed.stdout.decode().strip().splitlines()[-1])


def seed_social(
    admin_url: str,
    accounts: list[tuple[str, str]],
    bench_id: str,
    content_url: str,
    rng: random.Random,
) -> tuple[str, SocialIds]:
    """The social database over the seeded users, the bench user and content's posts."""
    say("provisioning and migrating the social database")
    url = social_dataset.provision(admin_url)
    started = time.perf_counter()
    user_ids = [user_id for user_id, _ in accounts]
    targets = content_dataset.reaction_targets(content_url)
    social_dataset.seed(url, user_ids, bench_id, targets, seed=rng.random())
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    sizes = social_dataset.check(url)
    say(
        f"seeded {sizes.follows:,} follows among {sizes.users:,} users (the most followed has "
        f"{sizes.top_followers:,}), {sizes.friendships:,} friendship rows and "
        f"{sizes.reactions:,} reactions in {seeded:.1f} s "
        f"(checked in {time.perf_counter() - started:.1f} s)"
    )
    return url, social_dataset.pick(url, user_ids, bench_id, SOCIAL_WRITES, rng)


def start_moderation(
    stack: ExitStack,
    admin_url: str,
    redis_url: str,
    workdir: Path,
    accounts: list[tuple[str, str]],
    content_url: str,
    servers: dict[str, ServiceProcess],
) -> ModerationIds:
    """The moderation database seeded with open subjects, and its service started."""
    say("provisioning and migrating the moderation database")
    url = moderation_dataset.provision(admin_url)
    started = time.perf_counter()
    moderation_dataset.seed(url, MODERATION_SUBJECTS, [user_id for user_id, _ in accounts])
    seeded = time.perf_counter() - started
    say(f"seeded {moderation_dataset.check(url):,} open subjects in {seeded:.1f} s (checked)")
    users, content = servers["users"], servers["content"]
    servers["moderation"] = stack.enter_context(
        ServiceProcess(
            MODERATION,
            url,
            redis_url,
            workdir,
            secret=users.secret,
            settings={
                "USERS_ADDRESS": users.target,
                "CONTENT_ADDRESS": content.target,
                # One moderator files every FileReport of the run.
                "REPORT_LIMIT": str(10**9),
            },
        )
    )
    say(f"moderation service SERVING on {servers['moderation'].target}")
    posts = [i for kind, i in content_dataset.reaction_targets(content_url) if kind == "post"]
    return moderation_dataset.pick(url, MODERATION_DECISIONS, posts, users.secret)


def start_payments(
    stack: ExitStack,
    admin_url: str,
    redis_url: str,
    workdir: Path,
    accounts: list[tuple[str, str]],
    data: Data,
    servers: dict[str, ServiceProcess],
    rng: random.Random,
) -> tuple[str, PaymentsIds]:
    """The payments service started, and FUNDED_WALLETS seeded users' wallets funded."""
    say("provisioning and migrating the payments database")
    url = payments_dataset.provision(admin_url)
    users = servers["users"]
    webhook_secret = secrets.token_urlsafe(32)
    servers["payments"] = stack.enter_context(
        ServiceProcess(
            PAYMENTS,
            url,
            redis_url,
            workdir,
            cache_tier=Tier.PROFILES,
            secret=users.secret,
            settings={"USERS_ADDRESS": users.target, "SANDBOX_WEBHOOK_SECRET": webhook_secret},
        )
    )
    say(f"payments service SERVING on {servers['payments'].target}")
    assert data.mint is not None
    owners = rng.sample([user_id for user_id, _ in accounts], FUNDED_WALLETS)
    started = time.perf_counter()
    try:
        ids = payments_dataset.fund(
            url, servers["payments"].target, owners, data.mint, webhook_secret
        )
    except grpc.RpcError as exc:
        raise RuntimeError(f"funding failed: {exc}\n{servers['payments'].log_tail()}") from None
    seconds = time.perf_counter() - started
    say(f"funded {len(owners):,} wallets through the sandbox in {seconds:.1f} s")
    return url, ids


def money(url: str, ids: PaymentsIds, results: list[tuple[str, Result]]) -> list[str]:
    """The ledger checked whole after the runs, and each tip run's answers against the
    tips it made."""
    ledger = payments_dataset.check(url, ids.hot)
    lines = [
        f"PASS  ledger whole after the runs: {ledger.tips:,} tips of {ledger.tipped:,} cents "
        f"({ledger.hot_tips:,} into the hot wallet), {ledger.entries:,} entries; every "
        "currency sums to zero, no wallet below zero, every account's entries chain to its "
        "balance"
    ]
    for title, r in results:
        if r.name in ("tip-pairs", "tip-hot"):
            made = payments_dataset.made(url, f"{TIP_PREFIX}{r.name}-")
            lines.append(
                f"{'PASS' if made == r.answered else 'MISS'}  {title}: {r.answered:,} tips "
                f"answered OK, {made:,} made"
            )
    return lines


def fan_out(social_url: str, content_target: str, redis_url: str, data: Data) -> str:
    """The fan-out delay's line of the report."""
    assert data.mint is not None
    author, followers = feed.author_near(dataset.libpq(social_url), feed.FANOUT_FOLLOWERS)
    say(f"fan-out: posts of an author with {len(followers):,} followers, every feed built")
    delays = asyncio.run(
        feed.fan_out_delays(content_target, redis_url, author, followers, data.mint(author))
    )
    shown = ", ".join(f"{d:.2f}" for d in delays)
    verdict = "PASS" if max(delays) < FANOUT_TARGET_SECONDS else "MISS"
    return (
        f"{verdict}  fan-out to {len(followers):,} followers complete {shown} s after "
        f"CreatePost returned (target < {FANOUT_TARGET_SECONDS:g} s)"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    # Ctrl-C unwinds too, even when a launching shell had SIGINT ignored (background jobs).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    rng = random.Random(SEED)
    me = psutil.Process()
    results: list[tuple[str, Result]] = []
    extra: list[str] = []
    chosen = {name for key in args.scenarios for name in SCENARIOS[key].services}
    if "social" in chosen or "moderation" in chosen:
        chosen.add("content")  # social and moderation ask content who wrote a post
    with (
        tempfile.TemporaryDirectory(prefix="daira-bench-", ignore_cleanup_errors=True) as tmp,
        ExitStack() as stack,
    ):
        workdir = Path(tmp)
        say("starting PostgreSQL and Redis")
        admin_url, redis_url = stack.enter_context(backends(workdir / "data"))
        say("provisioning and migrating the users database")
        url = dataset.provision(admin_url)
        started = time.perf_counter()
        dataset.seed(url, args.users)
        say(f"seeded {args.users:,} users in {time.perf_counter() - started:.1f} s")
        accounts = dataset.accounts(url)
        ids = dataset.partition([user_id for user_id, _ in accounts], CACHED_IDS, BATCH_POOL, rng)
        content_url = content_ids = social_url = None
        if "content" in chosen:
            say("provisioning and migrating the content database")
            content_url = content_dataset.provision(admin_url)
            started = time.perf_counter()
            content_dataset.seed(content_url, args.posts, accounts, seed=rng.random())
            seeded = time.perf_counter() - started
            posts, comments = content_dataset.check(content_url)
            say(f"seeded {posts:,} posts and {comments:,} comments in {seeded:.1f} s (checked)")
            content_ids = content_dataset.pick(
                content_url, accounts, CACHED_POSTS, POST_BATCH_POOL, rng
            )
        users = stack.enter_context(
            ServiceProcess(
                USERS,
                url,
                redis_url,
                workdir,
                cache_tier=Tier.PROFILES,
                command=args.service_command,
                workers=args.workers,
            )
        )
        say(f"users service SERVING on {users.target} (pid {users.pid})")
        servers = {"users": users}
        client = Client(users.target)
        data = Data(ids, client.register(), content_ids, mint=feed.minter(users.secret))
        if content_url is not None:
            servers["content"] = ServiceProcess(
                CONTENT,
                content_url,
                redis_url,
                workdir,
                cache_tier=POSTS_TIER,
                command=args.content_command,
                workers=args.workers,
                secret=users.secret,
                settings={"USERS_ADDRESS": users.target},
            )
        if "social" in chosen:
            assert content_url is not None
            social_url, social_ids = seed_social(
                admin_url, accounts, data.account.id, content_url, rng
            )
            data = replace(data, social=social_ids)
            content = servers["content"]
            servers["social"] = ServiceProcess(
                SOCIAL,
                social_url,
                redis_url,
                workdir,
                command=args.social_command,
                workers=args.workers,
                secret=users.secret,
                settings={"USERS_ADDRESS": users.target, "CONTENT_ADDRESS": content.target},
            )
            content.settings["SOCIAL_ADDRESS"] = servers["social"].target
        for name in ("content", "social"):
            if name in servers:
                stack.enter_context(servers[name])
                say(f"{name} service SERVING on {servers[name].target}")
        if "moderation" in chosen:
            assert content_url is not None
            data = replace(
                data,
                moderation=start_moderation(
                    stack, admin_url, redis_url, workdir, accounts, content_url, servers
                ),
            )
        payments_url = None
        if "payments" in chosen:
            payments_url, payments_ids = start_payments(
                stack, admin_url, redis_url, workdir, accounts, data, servers, rng
            )
            data = replace(data, payments=payments_ids)
        if "social" in chosen:
            assert data.social is not None
            token = client.token(data.account)
            hottest = data.social.hottest[:DEEP_USERS]
            data = replace(data, deep=deep_pages(servers["social"].target, token, hottest))
        for key in args.scenarios:
            scenario = SCENARIOS[key]
            server = servers[scenario.service]
            # Fresh each time: access tokens live 5 minutes.
            token = scenario.token(data) if scenario.token else client.token(data.account)
            if scenario.warm is not None:
                warm(server.target, token, scenario.service, scenario.warm(data))
            load = plan(
                scenario,
                target=server.target,
                token=token,
                data=data,
                concurrency=args.concurrency,
                duration=args.duration,
                warmup=args.warmup,
                server_pid=server.pid,
                channels=args.channels,
                seed=rng.randrange(1 << 30),
                bench_pid=me.pid,
                rate=args.rate,
            )
            plan_path = workdir / f"{key}.plan"
            load.save(plan_path)
            paced = f", paced at {load.rate:g}/s" if load.rate else ""
            say(f"{scenario.title}: {load.concurrency} callers, {load.duration:g} s{paced}")
            if args.quiet_wait > 0:
                cpu.wait_for_quiet(me, QUIET_THRESHOLD, args.quiet_wait, say)
            before = server.cache_counts()
            result = run_load(plan_path, timeout=load.warmup + load.duration + 120)
            after = server.cache_counts()
            hits, misses = after["hit"] - before["hit"], after["miss"] - before["miss"]
            if hits + misses:
                result.hit_ratio = hits / (hits + misses)
            results.append((scenario.title, result))
            if key == "home-feed" and social_url is not None:
                # Before the writes, whose fan-out would queue ahead of this post's.
                extra.append(fan_out(social_url, servers["content"].target, redis_url, data))
        if content_url is not None and "create-post" in args.scenarios:
            made, unresolved = content_dataset.created(content_url, CREATED_PREFIX)
            extra.append(f"CreatePost: {made:,} posts made, {unresolved:,} without their mention")
            if unresolved:
                extra.append("warning: content could not resolve mentions (is users reachable?)")
        if payments_url is not None and data.payments is not None:
            extra.extend(money(payments_url, data.payments, results))
        say("stopping")
    by_key = {r.name: r for _, r in results}
    for _, r in results:
        floor = by_key.get(FLOORS[SCENARIOS[r.name].service])
        if floor is not None and floor.throughput:
            r.floor_ratio = r.throughput / floor.throughput
    print()
    print(report.table(results))
    print(report.LEGEND)
    print()
    for line in report.targets(results) + report.notes(results) + extra:
        print(line)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for _, r in results], indent=1) + "\n")
    return 1 if any(r.errors for _, r in results) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:
        traceback.print_exc()
        sys.exit(2)

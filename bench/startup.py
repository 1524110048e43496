"""What the chosen scenarios need, brought up in order: PostgreSQL and Redis, each service's
database seeded and checked, the services started (calling each other, as deployed), and
the ids the scenarios read and write picked from what was seeded.

Content is started for social and moderation too, since they ask it who wrote a post;
social's address is given to content before either starts, so each knows the other's.
"""

from __future__ import annotations

import argparse
import random
import secrets
import time
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import grpc

from bench import (
    content_dataset,
    dataset,
    feed,
    moderation_dataset,
    payments_dataset,
    social_dataset,
    social_dataset_check,
    social_dataset_ids,
)
from bench.backends import backends
from bench.console import say
from bench.moderation_dataset import ModerationIds
from bench.payments_dataset import PaymentsIds
from bench.scenarios import DEEP_USERS, SCENARIOS, Client, Data, deep_pages
from bench.service import ServiceProcess
from bench.social_dataset_ids import SocialIds
from services.content import SPEC as CONTENT
from services.content.deps import POSTS_TIER
from services.moderation import SPEC as MODERATION
from services.payments import SPEC as PAYMENTS
from services.social import SPEC as SOCIAL
from services.users import SPEC as USERS
from shared.tiers import Tier

CACHED_IDS = 100
BATCH_POOL = 5000
CACHED_POSTS = 1000
POST_BATCH_POOL = 5000
# Follow's and React's single-use targets: more than a run at WRITES_PER_SECOND uses.
SOCIAL_WRITES = 100_000
# Open subjects seeded, and how many of them Decide may close (one each).
MODERATION_SUBJECTS = 100_000
MODERATION_DECISIONS = 40_000
# Wallets funded for the tips: one of them is the hot wallet.
FUNDED_WALLETS = 10_000


@dataclass(frozen=True)
class Deployment:
    """The running services by name, the scenarios' data, and the databases the checks
    after the runs read (None for a service no scenario needed)."""

    servers: dict[str, ServiceProcess]
    client: Client
    data: Data
    redis_url: str
    content_url: str | None
    social_url: str | None
    payments_url: str | None


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
    sizes = social_dataset_check.check(url)
    say(
        f"seeded {sizes.follows:,} follows among {sizes.users:,} users (the most followed has "
        f"{sizes.top_followers:,}), {sizes.friendships:,} friendship rows and "
        f"{sizes.reactions:,} reactions in {seeded:.1f} s "
        f"(checked in {time.perf_counter() - started:.1f} s)"
    )
    return url, social_dataset_ids.pick(url, user_ids, bench_id, SOCIAL_WRITES, rng)


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


def start(
    stack: ExitStack, workdir: Path, args: argparse.Namespace, rng: random.Random
) -> Deployment:
    """Everything `args.scenarios` call, stopped when `stack` closes."""
    chosen = {name for key in args.scenarios for name in SCENARIOS[key].services}
    if "social" in chosen or "moderation" in chosen:
        chosen.add("content")  # social and moderation ask content who wrote a post
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
        social_url, social_ids = seed_social(admin_url, accounts, data.account.id, content_url, rng)
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
    return Deployment(servers, client, data, redis_url, content_url, social_url, payments_url)

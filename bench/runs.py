"""The scenarios run one after the other, each in its own load process (`bench.load`), so
the client's CPU is not charged to the server measured; and the home feed's fan-out delay,
measured right after the home-feed run.

Before each run the services' event consumers catch up with what earlier runs wrote (a
backlog of fan-out would otherwise be measured as part of the next run), the scenario's
cache is warmed and, with `--quiet-wait`, other processes are given time to leave the CPU;
the server's cache hits and misses over the run give its hit ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
from pathlib import Path

import psutil

from bench import cpu, dataset, feed
from bench.console import say
from bench.plan import Result
from bench.scenarios import SCENARIOS, Data, plan, warm
from bench.startup import Deployment
from shared.service import ROOT

# Other processes' share of the CPU below which a scenario may start.
QUIET_THRESHOLD = 0.05
FANOUT_TARGET_SECONDS = 2.0


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


def run_scenarios(
    deployment: Deployment, args: argparse.Namespace, rng: random.Random, workdir: Path
) -> tuple[list[tuple[str, Result]], list[str]]:
    """Each scenario's title and result, in the order run, and the fan-out's line if the
    home feed ran with social up."""
    me = psutil.Process()
    servers, client, data = deployment.servers, deployment.client, deployment.data
    results: list[tuple[str, Result]] = []
    extra: list[str] = []
    for key in args.scenarios:
        scenario = SCENARIOS[key]
        server = servers[scenario.service]
        waited = asyncio.run(feed.settled(deployment.redis_url))
        if waited >= 1:
            say(f"waited {waited:.0f} s for the services' event consumers to catch up")
        # Fresh each time: access tokens live 5 minutes.
        token = scenario.token(data) if scenario.token else client.token(data.account)
        if scenario.warm is not None:
            warm(server.target, token, scenario.service, scenario.warm(data))
        if scenario.open_feeds is not None:
            assert data.mint is not None, "reading feeds as other users needs a token minter"
            asyncio.run(feed.open_feeds(server.target, data.mint, scenario.open_feeds(data)))
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
        if key == "home-feed" and deployment.social_url is not None:
            # Before the writes, whose fan-out would queue ahead of this post's.
            content = servers["content"].target
            extra.append(fan_out(deployment.social_url, content, deployment.redis_url, data))
    return results, extra

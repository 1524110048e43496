"""The printed results: one row per scenario, then the targets as PASS or MISS."""

from __future__ import annotations

from bench.plan import Result

# Targets on a 2-core machine, at 32 concurrent callers.
TARGET_CALLERS = 32
MIN_CACHED_TO_FLOOR = 0.70
GET_USER_P99_MS = 5.0
BATCH_P99_MS = 15.0
# Content's and social's reads and writes.
READ_P99_MS = 10.0
WRITE_P99_MS = 20.0
# A home feed rebuilt from the database on its first read.
COLD_FEED_P99_MS = 50.0
# Moderation's queue reads and claims; payments' tips, and tips into one hot wallet.
MODERATION_P99_MS = 20.0
TIP_P99_MS = 25.0
HOT_TIPS_PER_SECOND = 500.0
READS = (
    "get-post", "batch-posts", "user-posts", "comments", "trending", "hashtag",
    "relationships", "followers", "followers-deep", "reaction-counts", "unread", "notifications",
    "home-feed",
)  # fmt: skip
# The p99 latency each scenario must stay under, by key.
P99_TARGETS_MS = {
    "get-cached": GET_USER_P99_MS,
    "get-uncached": GET_USER_P99_MS,
    "batch": BATCH_P99_MS,
    **dict.fromkeys(READS, READ_P99_MS),
    **dict.fromkeys(("create-post", "feed-post", "follow", "react"), WRITE_P99_MS),
    "home-feed-cold": COLD_FEED_P99_MS,
    **dict.fromkeys(("queue", "claim-next"), MODERATION_P99_MS),
    **dict.fromkeys(("tip-pairs", "tip-hot"), TIP_P99_MS),
}

COLUMNS = (
    ("scenario", "<", 28),
    ("callers", ">", 7),
    ("calls", ">", 7),
    ("calls/s", ">", 8),
    ("x floor", ">", 7),
    ("p50 ms", ">", 7),
    ("p90 ms", ">", 7),
    ("p99 ms", ">", 7),
    ("errors", ">", 6),
    ("hit %", ">", 5),
    ("srv µs/call", ">", 11),
    ("cli µs/call", ">", 11),
    ("db µs/call", ">", 10),
    ("busy %", ">", 6),
    ("noise %", ">", 7),
)
# Other processes using more than this share of the CPU make a run's numbers suspect.
NOISE_WARNING = 0.05


def _row(cells: list[str]) -> str:
    return "  ".join(
        f"{c:{align}{width}}" for c, (_, align, width) in zip(cells, COLUMNS, strict=True)
    )


def _per_call_us(seconds: float, calls: int) -> str:
    return f"{seconds / calls * 1e6:,.0f}" if calls else "-"


def table(results: list[tuple[str, Result]]) -> str:
    lines = [_row([name for name, _, _ in COLUMNS])]
    lines.append("  ".join("-" * width for _, _, width in COLUMNS))
    for title, r in results:
        hit = "-" if r.hit_ratio is None else f"{r.hit_ratio * 100:.0f}"
        floor = "-" if r.floor_ratio is None else f"{r.floor_ratio:.2f}"
        lines.append(
            _row(
                [
                    title,
                    str(r.callers),
                    f"{r.calls:,}",
                    f"{r.throughput:,.0f}",
                    floor,
                    f"{r.p50_ms:.2f}",
                    f"{r.p90_ms:.2f}",
                    f"{r.p99_ms:.2f}",
                    str(r.errors),
                    hit,
                    _per_call_us(r.server_cpu_s, r.calls),
                    _per_call_us(r.client_cpu_s, r.calls),
                    _per_call_us(r.backends_cpu_s, r.calls),
                    f"{r.busy * 100:.0f}",
                    f"{r.foreign * 100:.0f}",
                ]
            )
        )
    return "\n".join(lines)


LEGEND = """\
calls, calls/s, latencies: calls completed in the measured window, timed by the client.
x floor: calls/s as a multiple of the Health/Check floor of the same server.
hit %: cache hits among the scenario's lookups (warm-up included): users' profiles tier,
  content's posts (social caches nothing).
srv / cli / db µs/call: CPU time per measured call of the service / the load process /
  PostgreSQL and Redis together (when embedded), and the other services it calls (content
  calls users and social, social calls users and content).
busy %: the whole machine's CPU; noise %: used by processes outside the bench's tree
  (other test runs; an external PostgreSQL or Redis counts here too)."""


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def targets(results: list[tuple[str, Result]]) -> list[str]:
    """One line per target whose scenarios ran."""
    lines = []
    by_key = {r.name: r for _, r in results}
    floor, cached = by_key.get("floor"), by_key.get("get-cached")
    if floor and cached and floor.throughput:
        ratio = cached.throughput / floor.throughput
        lines.append(
            f"{_verdict(ratio >= MIN_CACHED_TO_FLOOR)}  GetUser cached / floor throughput = "
            f"{ratio:.2f} (target >= {MIN_CACHED_TO_FLOOR:.2f})"
        )
    limits = []
    for title, r in results:
        limit = P99_TARGETS_MS.get(r.name)
        if limit is None:
            continue
        limits.append(limit)
        note = "" if r.callers == TARGET_CALLERS else f" [ran at {r.callers} callers]"
        if r.rate:
            note += f" [paced at {r.rate:g}/s]"
        if r.errors:
            note += f" [{r.errors:,} calls failed]"
        # A run whose calls failed measured nothing: its p99 is of the calls that succeeded.
        met = r.calls > 0 and not r.errors and r.p99_ms < limit
        lines.append(
            f"{_verdict(met)}  {title} p99 = {r.p99_ms:.2f} ms "
            f"(target < {limit:g} ms at {TARGET_CALLERS} callers){note}"
        )
    hot = by_key.get("tip-hot")
    if hot is not None and not hot.rate:  # paced, it sends only what it is told to
        lines.append(
            f"{_verdict(hot.throughput >= HOT_TIPS_PER_SECOND)}  Tip into one hot wallet = "
            f"{hot.throughput:,.0f} tips/s (target >= {HOT_TIPS_PER_SECOND:g}/s)"
        )
    closed = [r for _, r in results if not r.rate and r.callers == TARGET_CALLERS]
    if closed and limits:
        tightest = min(limits)
        lines.append(
            f"(closed loop: mean latency = callers / throughput, so p99 < {tightest:g} ms "
            f"at {TARGET_CALLERS} callers needs well over "
            f"{TARGET_CALLERS / tightest * 1000:,.0f} calls/s; --rate measures latency "
            "at a set load instead)"
        )
    return lines


def notes(results: list[tuple[str, Result]]) -> list[str]:
    lines = []
    for title, r in results:
        if r.foreign > NOISE_WARNING:
            lines.append(
                f"warning: {title}: other processes used {r.foreign * 100:.0f}% of the CPU "
                "during the run; its numbers are not trustworthy"
            )
        if r.rate and r.throughput < 0.95 * r.rate:
            lines.append(f"note: {title} could not keep up the {r.rate:g}/s pace")
        if r.exhausted:
            lines.append(
                f"note: {title} ran out of its single-use requests (never-read ids, fresh "
                "request ids) before the end; for GetUser uncached seed more with --users"
            )
        for code, message in r.error_samples.items():
            lines.append(f"error: {title}: {code}: {message[:200]}")
    return lines

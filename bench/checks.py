"""What the runs left in the databases, checked against what the services answered: the
posts CreatePost made (and whether their mentions resolved), and the payments ledger
after the tips."""

from __future__ import annotations

from bench import content_dataset, payments_dataset
from bench.payments_calls import TIP_PREFIX
from bench.payments_dataset import PaymentsIds
from bench.plan import Result
from bench.scenarios import CREATED_PREFIX
from bench.startup import Deployment


def created_posts(content_url: str) -> list[str]:
    """The CreatePost runs' posts counted, with a warning if mentions went unresolved."""
    made, unresolved = content_dataset.created(content_url, CREATED_PREFIX)
    lines = [f"CreatePost: {made:,} posts made, {unresolved:,} without their mention"]
    if unresolved:
        lines.append("warning: content could not resolve mentions (is users reachable?)")
    return lines


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


def after_runs(
    deployment: Deployment, scenarios: list[str], results: list[tuple[str, Result]]
) -> list[str]:
    """The lines of the checks that apply to the scenarios run."""
    lines = []
    if deployment.content_url is not None and "create-post" in scenarios:
        lines.extend(created_posts(deployment.content_url))
    payments = deployment.data.payments
    if deployment.payments_url is not None and payments is not None:
        lines.extend(money(deployment.payments_url, payments, results))
    return lines

"""The payments service's scenarios.

Payments: every call is a funded user's own (payments_calls), over 10,000 wallets funded
through the sandbox (payments_dataset). Tip between random pairs sends each tip once;
Tip into one hot wallet sends each once too, from random senders; GetWallet and
ListTransactions(20) read random funded users' own (after the tips, so the pages are
full). Payments asks users whether each recipient may receive money (cached briefly).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from bench import feed, payments_calls
from bench.payments_dataset import PaymentsIds
from bench.scenarios.common import HEALTH, WRITES_PER_SECOND, Data, Scenario, _health, _no_build
from services.payments import SPEC as PAYMENTS


def _payments(data: Data) -> PaymentsIds:
    assert data.payments is not None, "payments scenarios need the funded wallets"
    return data.payments


def _tips(key: str, *, hot: bool) -> Callable[[Data, random.Random], list[feed.Call]]:
    """As many tips as the run could send, each its own."""

    def calls(data: Data, rng: random.Random) -> list[feed.Call]:
        count = math.ceil(data.seconds * WRITES_PER_SECOND)
        return payments_calls.tips(_payments(data), key, count, rng, hot=hot)

    return calls


SCENARIOS = [
    Scenario(
        "payments-floor",
        "Health/Check (payments floor)",
        HEALTH,
        _health(PAYMENTS.grpc_service),
        service="payments",
    ),
    *(
        Scenario(
            key,
            title,
            f"{payments_calls.API}/Tip",
            _no_build,
            service="payments",
            once=True,
            calls=_tips(key, hot=hot),
        )
        for key, title, hot in (
            ("tip-pairs", "Tip, random pairs of 10,000", False),
            ("tip-hot", "Tip into one hot wallet", True),
        )
    ),
    Scenario(
        "get-wallet",
        "GetWallet",
        f"{payments_calls.API}/GetWallet",
        _no_build,
        service="payments",
        calls=lambda d, rng: payments_calls.wallet_reads(_payments(d), rng),
    ),
    Scenario(
        "transactions",
        "ListTransactions(20)",
        f"{payments_calls.API}/ListTransactions",
        _no_build,
        service="payments",
        calls=lambda d, rng: payments_calls.transaction_pages(_payments(d), rng),
    ),
]

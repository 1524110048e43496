"""The payments scenarios' calls, each as the user whose money it is (a minted token).

Tips go between random pairs of the funded wallets, or from random funded wallets all
into one hot wallet, each with a request_id of its own (`TIP_PREFIX`, then the scenario's
key), so the bench can count afterwards the tips each run made; the reads are a wallet's
balance and the first page of its transactions, by random funded users.
"""

from __future__ import annotations

import random

from bench.feed import Call
from bench.payments_dataset import CURRENCY, PaymentsIds
from daira.payments.v1 import payments_pb2 as pb
from services.payments import SPEC as PAYMENTS

API = f"/{PAYMENTS.grpc_service}"
TIP_PREFIX = "bench-tip-"
# Tips of 0.01 to 5.00: a run's tips from one wallet stay far below its deposit.
MAX_TIP = 500
READERS = 2000
PAGE_SIZE = 20


def _tip(recipient: str, amount: int, request_id: str) -> bytes:
    return pb.TipRequest(
        recipient_id=recipient, amount=amount, currency_code=CURRENCY, request_id=request_id
    ).SerializeToString()


def tips(ids: PaymentsIds, key: str, count: int, rng: random.Random, *, hot: bool) -> list[Call]:
    """`count` tips, into the hot wallet or to another random funded wallet each."""
    prefix = f"{TIP_PREFIX}{key}-{rng.getrandbits(32):08x}-"
    calls = []
    for n in range(count):
        sender = rng.choice(ids.funded)
        recipient = ids.hot if hot else rng.choice(ids.funded)
        while recipient == sender:
            recipient = rng.choice(ids.funded)
        request = _tip(recipient, rng.randint(1, MAX_TIP), f"{prefix}{n}")
        calls.append((f"{API}/Tip", request, sender))
    return calls


def wallet_reads(ids: PaymentsIds, rng: random.Random) -> list[Call]:
    request = pb.GetWalletRequest(currency_code=CURRENCY).SerializeToString()
    return [(f"{API}/GetWallet", request, user) for user in rng.sample(ids.funded, READERS)]


def transaction_pages(ids: PaymentsIds, rng: random.Random) -> list[Call]:
    request = pb.ListTransactionsRequest(page_size=PAGE_SIZE).SerializeToString()
    readers = [*rng.sample(ids.funded, READERS), ids.hot]
    return [(f"{API}/ListTransactions", request, user) for user in readers]

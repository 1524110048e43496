"""Conservation of money: random deposits, tips, withdrawals (confirmed, failed, timed out),
refunds, retries and replays, checked against an in-memory model after every step.

After every step each wallet matches the model, every currency sums to zero over all
accounts, and no wallet is negative. Every example has three new accounts (so it starts
from empty wallets and replays exactly while shrinking) and one admin shared by all.
The state machine runs in a worker thread with blocking stubs while the in-process
servers keep serving on the event loop.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import psycopg
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from daira.payments.v1 import payments_pb2 as pb
from daira.payments.v1 import payments_pb2_grpc
from services.payments.providers import FAILED, SUCCEEDED
from services.payments.providers.sandbox import Sandbox
from shared.server import RunningServer
from tests.users.conftest import Accounts

from .conftest import FEE_BASIS_POINTS, Account, libpq_url

USERS = 3
OK = grpc.StatusCode.OK
users = st.integers(0, USERS - 1)
amounts = st.integers(1, 400)


class World:
    """The accounts, connections and servers every example shares."""

    def __init__(
        self,
        accounts: Accounts,
        admin: Account,
        server: RunningServer,
        sandbox: Sandbox,
        db_url: str,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.accounts = accounts
        self.admin = admin.auth
        self.server = server
        self.sandbox = sandbox
        self.loop = loop
        self.channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        self.stub = payments_pb2_grpc.PaymentsServiceStub(self.channel)
        self.db = psycopg.connect(libpq_url(db_url), autocommit=True)

    def team(self) -> list[Account]:
        async def make() -> list[Account]:
            return list(await asyncio.gather(*(self.accounts.create() for _ in range(USERS))))

        return asyncio.run_coroutine_threadsafe(make(), self.loop).result(timeout=30)

    def call(self, method: str, auth: Any, request: Any) -> tuple[grpc.StatusCode, Any]:
        try:
            return OK, getattr(self.stub, method)(request, metadata=auth)
        except grpc.RpcError as err:
            return err.code(), None

    def event(self, payment: pb.Payment, type_: str) -> pb.HandleProviderEventRequest:
        payload, signature = self.sandbox.event(
            payment.provider_reference, payment.amount, payment.currency_code, type_
        )
        return pb.HandleProviderEventRequest(
            provider=pb.PROVIDER_SANDBOX, payload=payload, signature=signature
        )

    def time_out_withdrawals(self) -> None:
        """A reconciler pass as if every pending withdrawal had waited past the timeout."""
        later = datetime.now(UTC) + timedelta(days=1)
        voiding = self.server.endpoint.servicer.withdrawals.void_expired(later)
        asyncio.run_coroutine_threadsafe(voiding, self.loop).result(timeout=30)

    def wallet(self, auth: Any) -> tuple[int, int]:
        request = pb.GetWalletRequest(currency_code="USD")
        found = self.stub.GetWallet(request, metadata=auth).wallet
        return found.posted_balance, found.pending_balance

    def close(self) -> None:
        self.channel.close()
        self.db.close()


@dataclass
class Sent:
    """A call that succeeded, to retry or to reuse the key of."""

    method: str
    auth: Any
    request: Any
    result_id: str


@dataclass
class Tipped:
    id: str
    payer: int
    payee: int
    amount: int
    fee: int
    refunded: int = 0


WORLD: World | None = None


class PaymentsModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        assert WORLD is not None
        self.w = WORLD
        team = self.w.team()
        self.ids = [a.id for a in team]
        self.auth = [a.auth for a in team]
        self.posted = [0] * USERS
        self.pending = [0] * USERS
        self.withdrawals: list[tuple[int, pb.Payment]] = []
        self.tips: list[Tipped] = []
        self.sent: list[Sent] = []
        self.events: list[pb.HandleProviderEventRequest] = []

    def available(self, user: int) -> int:
        return self.posted[user] - self.pending[user]

    def expect(self, code: grpc.StatusCode, wanted: grpc.StatusCode) -> None:
        assert code == wanted, f"answered {code}, the model expects {wanted}"

    # --- rules ------------------------------------------------------------------------------

    @rule(user=users, amount=st.integers(1, 1_000), succeeds=st.booleans())
    def deposit(self, user: int, amount: int, succeeds: bool) -> None:
        request = pb.CreateDepositRequest(
            amount=amount,
            currency_code="USD",
            provider=pb.PROVIDER_SANDBOX,
            request_id=uuid.uuid4().hex,
            sandbox_behavior=pb.SANDBOX_BEHAVIOR_SILENT,
        )
        code, reply = self.w.call("CreateDeposit", self.auth[user], request)
        self.expect(code, OK)
        self.sent.append(Sent("CreateDeposit", self.auth[user], request, reply.payment.id))
        event = self.w.event(reply.payment, SUCCEEDED if succeeds else FAILED)
        code, _ = self.w.call("HandleProviderEvent", (), event)
        self.expect(code, OK)
        self.events.append(event)
        if succeeds:
            self.posted[user] += amount

    @rule(payer=users, payee=users, amount=amounts)
    def tip(self, payer: int, payee: int, amount: int) -> None:
        request = pb.TipRequest(
            recipient_id=self.ids[payee],
            amount=amount,
            currency_code="USD",
            request_id=uuid.uuid4().hex,
        )
        code, reply = self.w.call("Tip", self.auth[payer], request)
        if payer == payee or amount > self.available(payer):
            return self.expect(code, grpc.StatusCode.FAILED_PRECONDITION)
        self.expect(code, OK)
        fee = amount * FEE_BASIS_POINTS // 10_000  # rounded down
        assert reply.transaction.fee == fee
        self.posted[payer] -= amount
        self.posted[payee] += amount - fee
        self.tips.append(Tipped(reply.transaction.id, payer, payee, amount, fee))
        self.sent.append(Sent("Tip", self.auth[payer], request, reply.transaction.id))

    @rule(user=users, amount=amounts)
    def withdraw(self, user: int, amount: int) -> None:
        request = pb.CreateWithdrawalRequest(
            amount=amount,
            currency_code="USD",
            provider=pb.PROVIDER_SANDBOX,
            destination="bank:model",
            request_id=uuid.uuid4().hex,
            sandbox_behavior=pb.SANDBOX_BEHAVIOR_SILENT,
        )
        code, reply = self.w.call("CreateWithdrawal", self.auth[user], request)
        if amount > self.available(user):
            return self.expect(code, grpc.StatusCode.FAILED_PRECONDITION)
        self.expect(code, OK)
        self.pending[user] += amount
        self.withdrawals.append((user, reply.payment))
        self.sent.append(Sent("CreateWithdrawal", self.auth[user], request, reply.payment.id))

    @precondition(lambda self: self.withdrawals)
    @rule(pick=st.integers(0, 10**6), succeeds=st.booleans())
    def provider_answers(self, pick: int, succeeds: bool) -> None:
        user, payment = self.withdrawals.pop(pick % len(self.withdrawals))
        event = self.w.event(payment, SUCCEEDED if succeeds else FAILED)
        code, _ = self.w.call("HandleProviderEvent", (), event)
        self.expect(code, OK)
        self.events.append(event)
        self.pending[user] -= payment.amount
        if succeeds:
            self.posted[user] -= payment.amount

    @precondition(lambda self: self.withdrawals)
    @rule()
    def withdrawals_time_out(self) -> None:
        self.w.time_out_withdrawals()
        for user, payment in self.withdrawals:
            self.pending[user] -= payment.amount
        self.withdrawals.clear()

    @precondition(lambda self: self.tips)
    @rule(pick=st.integers(0, 10**6), part=st.integers(0, 10**6), by_admin=st.booleans())
    def refund(self, pick: int, part: int, by_admin: bool) -> None:
        """Some of what remains of a tip, or (part 0) one more than remains."""
        tipped = self.tips[pick % len(self.tips)]
        remaining = tipped.amount - tipped.refunded
        amount = 1 + part % remaining if part and remaining else remaining + 1
        request = pb.RefundRequest(
            transaction_id=tipped.id, amount=amount, reason="model", request_id=uuid.uuid4().hex
        )
        auth = self.w.admin if by_admin else self.auth[tipped.payee]
        code, reply = self.w.call("Refund", auth, request)
        # The fee comes back in proportion to the running total, rounded down.
        total = tipped.refunded + amount
        fee = tipped.fee * total // tipped.amount - tipped.fee * tipped.refunded // tipped.amount
        if amount > tipped.amount - tipped.refunded or amount - fee > self.available(tipped.payee):
            return self.expect(code, grpc.StatusCode.FAILED_PRECONDITION)
        self.expect(code, OK)
        tipped.refunded += amount
        self.posted[tipped.payee] -= amount - fee
        self.posted[tipped.payer] += amount
        self.sent.append(Sent("Refund", auth, request, reply.transaction.id))

    @precondition(lambda self: self.sent)
    @rule(pick=st.integers(0, 10**6))
    def retry(self, pick: int) -> None:
        """The same request again: the first result, nothing moves."""
        sent = self.sent[pick % len(self.sent)]
        code, reply = self.w.call(sent.method, sent.auth, sent.request)
        self.expect(code, OK)
        made = reply.payment.id if sent.method in ("CreateDeposit", "CreateWithdrawal") else None
        assert (made or reply.transaction.id) == sent.result_id

    @precondition(lambda self: self.sent)
    @rule(pick=st.integers(0, 10**6))
    def reuse_a_key(self, pick: int) -> None:
        """The same request_id with another amount: ALREADY_EXISTS, nothing moves."""
        sent = self.sent[pick % len(self.sent)]
        changed = type(sent.request)()
        changed.CopyFrom(sent.request)
        changed.amount += 1
        code, _ = self.w.call(sent.method, sent.auth, changed)
        self.expect(code, grpc.StatusCode.ALREADY_EXISTS)

    @precondition(lambda self: self.events)
    @rule(pick=st.integers(0, 10**6))
    def replay_an_event(self, pick: int) -> None:
        code, reply = self.w.call("HandleProviderEvent", (), self.events[pick % len(self.events)])
        self.expect(code, OK)
        assert reply.duplicate

    # --- invariants ---------------------------------------------------------------------

    @invariant()
    def every_wallet_is_the_models(self) -> None:
        for user in range(USERS):
            assert self.w.wallet(self.auth[user]) == (self.posted[user], self.pending[user])

    @invariant()
    def every_currency_sums_to_zero_and_no_wallet_is_negative(self) -> None:
        unbalanced = self.w.db.execute(
            "SELECT currency FROM accounts GROUP BY currency "
            "HAVING sum(posted) <> 0 OR sum(pending_debits) <> sum(pending_credits)"
        ).fetchall()
        assert unbalanced == []
        negative = self.w.db.execute(
            "SELECT count(*) FROM accounts WHERE kind = 'wallet' AND posted - pending_debits < 0"
        ).fetchone()
        assert negative == (0,)


PaymentsModel.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


async def test_random_sequences_conserve_money(
    accounts, payments_server, sandbox, payments_db_url
) -> None:
    global WORLD
    admin = await accounts.create(role="admin")
    loop = asyncio.get_running_loop()
    WORLD = World(accounts, admin, payments_server, sandbox, payments_db_url, loop)
    try:
        await asyncio.to_thread(PaymentsModel.TestCase().runTest)
    finally:
        WORLD.close()
        WORLD = None

"""The PaymentsService servicer: requests in, domain calls, responses out.

Who may call each RPC is declared in ACCESS and enforced by the shared pipeline before
a handler runs; HandleProviderEvent is PUBLIC because the provider's signature, checked
in events.py, is its authentication. Finer rules (own money, admins) live in the logic
modules.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeAlias

import grpc

from daira.payments.v1 import payments_pb2 as pb
from daira.payments.v1 import payments_pb2_grpc
from services.payments.deposits import Deposits
from services.payments.deps import Deps
from services.payments.events import Events
from services.payments.refunds import Refunds
from services.payments.subscriptions import subscriptions
from services.payments.tips import Tips
from services.payments.wallets import Wallets
from services.payments.withdrawals import Withdrawals
from shared import eventing
from shared.auth import Access, current_principal
from shared.ids import parse_id
from shared.server import Endpoint, Runtime

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

ACCESS = {
    "GetWallet": Access.USER,
    "ListTransactions": Access.USER,
    "GetTransaction": Access.USER,
    "GetPayment": Access.USER,
    "CreateDeposit": Access.USER,
    "HandleProviderEvent": Access.PUBLIC,
    "Tip": Access.USER,
    "CreateWithdrawal": Access.USER,
    "Refund": Access.USER,
    "GetEarnings": Access.USER,
}


class PaymentsServicer(payments_pb2_grpc.PaymentsServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self.wallets = Wallets(deps)
        self.tips = Tips(deps, self.wallets)
        self.refunds = Refunds(deps, self.wallets)
        self.deposits = Deposits(deps)
        self.withdrawals = Withdrawals(deps, self.wallets)
        self.events = Events(deps)
        deps.sandbox.connect(self.events.deliver_sandbox)
        self._reconciler: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the reconciler; `close` (the endpoint's on_stop) ends it."""
        self._reconciler = asyncio.create_task(self.withdrawals.run_reconciler())

    async def close(self) -> None:
        if self._reconciler is not None:
            self._reconciler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconciler
        await self._deps.close()

    async def GetWallet(
        self, request: pb.GetWalletRequest, context: Context
    ) -> pb.GetWalletResponse:
        wallet = await self.wallets.wallet(
            current_principal(), request.user_id, request.currency_code
        )
        return pb.GetWalletResponse(wallet=wallet)

    async def ListTransactions(
        self, request: pb.ListTransactionsRequest, context: Context
    ) -> pb.ListTransactionsResponse:
        transactions, token = await self.wallets.history(
            current_principal(),
            request.user_id,
            request.type,
            request.page_size,
            request.page_token,
        )
        return pb.ListTransactionsResponse(transactions=transactions, next_page_token=token)

    async def GetTransaction(
        self, request: pb.GetTransactionRequest, context: Context
    ) -> pb.GetTransactionResponse:
        transaction = await self.wallets.transaction(
            current_principal(), parse_id("id", request.id)
        )
        return pb.GetTransactionResponse(transaction=transaction)

    async def GetPayment(
        self, request: pb.GetPaymentRequest, context: Context
    ) -> pb.GetPaymentResponse:
        payment = await self.wallets.payment(current_principal(), parse_id("id", request.id))
        return pb.GetPaymentResponse(payment=payment)

    async def CreateDeposit(
        self, request: pb.CreateDepositRequest, context: Context
    ) -> pb.CreateDepositResponse:
        payment = await self.deposits.create(
            current_principal(),
            request.amount,
            request.currency_code,
            request.provider,
            request.request_id,
            request.sandbox_behavior,
        )
        return pb.CreateDepositResponse(payment=payment)

    async def HandleProviderEvent(
        self, request: pb.HandleProviderEventRequest, context: Context
    ) -> pb.HandleProviderEventResponse:
        return await self.events.handle(request.provider, request.payload, request.signature)

    async def Tip(self, request: pb.TipRequest, context: Context) -> pb.TipResponse:
        transaction = await self.tips.tip(
            current_principal(),
            parse_id("recipient_id", request.recipient_id),
            request.amount,
            request.currency_code,
            request.note,
            request.request_id,
        )
        return pb.TipResponse(transaction=transaction)

    async def CreateWithdrawal(
        self, request: pb.CreateWithdrawalRequest, context: Context
    ) -> pb.CreateWithdrawalResponse:
        payment, transaction = await self.withdrawals.create(
            current_principal(),
            request.amount,
            request.currency_code,
            request.provider,
            request.destination,
            request.request_id,
            request.sandbox_behavior,
        )
        return pb.CreateWithdrawalResponse(payment=payment, transaction=transaction)

    async def Refund(self, request: pb.RefundRequest, context: Context) -> pb.RefundResponse:
        transaction = await self.refunds.refund(
            current_principal(),
            parse_id("transaction_id", request.transaction_id),
            request.amount,
            request.reason,
            request.request_id,
            context.peer() or "",
        )
        return pb.RefundResponse(transaction=transaction)

    async def GetEarnings(
        self, request: pb.GetEarningsRequest, context: Context
    ) -> pb.GetEarningsResponse:
        earnings = await self.wallets.earnings(current_principal(), request.user_id)
        return pb.GetEarningsResponse(earnings=earnings)


async def build(runtime: Runtime) -> Endpoint:
    deps = Deps.from_runtime(runtime)
    servicer = PaymentsServicer(deps)
    servicer.start()
    # Domain events (shared.eventing), not the providers' events of services.payments.events.
    events = eventing.Events(runtime, subscriptions(deps))
    events.start()

    async def stop() -> None:
        await events.close()
        await servicer.close()

    return Endpoint(
        servicer, payments_pb2_grpc.add_PaymentsServiceServicer_to_server, ACCESS, on_stop=stop
    )

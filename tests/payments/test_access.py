"""Who may call what: every RPC but the webhook needs a token; money is a user's own."""

from __future__ import annotations

import grpc
import pytest

from daira.payments.v1 import payments_pb2 as pb
from services.payments.api import ACCESS
from shared.auth import Access

from .conftest import bearer, key

REQUESTS = {
    "GetWallet": pb.GetWalletRequest(currency_code="USD"),
    "ListTransactions": pb.ListTransactionsRequest(),
    "GetTransaction": pb.GetTransactionRequest(id="01900000-0000-7000-8000-000000000000"),
    "GetPayment": pb.GetPaymentRequest(id="01900000-0000-7000-8000-000000000000"),
    "CreateDeposit": pb.CreateDepositRequest(
        amount=1, currency_code="USD", provider=pb.PROVIDER_SANDBOX, request_id="k"
    ),
    "Tip": pb.TipRequest(
        recipient_id="01900000-0000-7000-8000-000000000000",
        amount=1,
        currency_code="USD",
        request_id="k",
    ),
    "CreateWithdrawal": pb.CreateWithdrawalRequest(
        amount=1,
        currency_code="USD",
        provider=pb.PROVIDER_SANDBOX,
        destination="d",
        request_id="k",
    ),
    "Refund": pb.RefundRequest(
        transaction_id="01900000-0000-7000-8000-000000000000", amount=1, request_id="k"
    ),
    "GetEarnings": pb.GetEarningsRequest(),
}
MOVING = ["CreateDeposit", "Tip", "CreateWithdrawal"]


def test_only_the_webhook_is_public() -> None:
    assert {m for m, a in ACCESS.items() if a is Access.PUBLIC} == {"HandleProviderEvent"}
    assert set(REQUESTS) | {"HandleProviderEvent"} == set(ACCESS)


@pytest.mark.parametrize("method", sorted(REQUESTS))
async def test_a_call_without_a_token_is_unauthenticated(stub, rejected, method) -> None:
    failure = await rejected(getattr(stub, method)(REQUESTS[method]))
    assert failure.code == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("method", MOVING)
async def test_a_service_has_no_money_to_move(stub, tokens, rejected, method) -> None:
    auth = bearer(tokens.issue_service("content", ttl_seconds=600))
    request = REQUESTS[method]
    request.request_id = key()
    failure = await rejected(getattr(stub, method)(request, metadata=auth))
    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def test_a_forged_token_is_unauthenticated(stub, rejected) -> None:
    auth = bearer("not.a.token")
    failure = await rejected(stub.GetWallet(REQUESTS["GetWallet"], metadata=auth))
    assert failure.code == grpc.StatusCode.UNAUTHENTICATED

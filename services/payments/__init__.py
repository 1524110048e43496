"""The payments service: wallets on a double-entry ledger, deposits and withdrawals through
providers, tips, refunds, earnings."""

from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="payments",
    port=50054,
    metrics_port=9154,
    grpc_service="daira.payments.v1.PaymentsService",
)

"""Demo money for `make run`: each demo account (demo01 … demo20) gets a funded USD wallet
through the sandbox deposit path, and a few tips go around.

The users are the users service's demo accounts, whose ids only it knows: the seed asks
it (LookupUsers, with a service token), then works through the service's own logic: a
deposit with the sandbox, its signed success event handled as the webhook would, tips as
their senders. Idempotent: every call carries a fixed request_id, so a second run gets
the first run's payments and tips back and moves nothing.
"""

from __future__ import annotations

import asyncio
import uuid

from daira.payments.v1 import payments_pb2 as pb
from services.payments import SPEC
from services.payments.deposits import Deposits
from services.payments.deps import Deps
from services.payments.events import Events
from services.payments.settings import PaymentsSettings
from services.payments.tips import Tips
from services.payments.wallets import Wallets
from shared import seeding
from shared.auth import Principal, Role
from shared.config import load_settings
from shared.errors import DomainError
from shared.server import build_runtime

DEMO = [f"demo{n:02d}" for n in range(1, 21)]
DEPOSIT = 50_00  # USD 50.00 each
# (sender, recipient, cents, note)
TIPS = [
    ("demo01", "demo02", 5_00, "great post"),
    ("demo02", "demo03", 2_50, "thanks for the tip-off"),
    ("demo03", "demo01", 1_00, ""),
    ("demo04", "demo05", 10_00, "love the video"),
    ("demo06", "demo05", 3_00, ""),
    ("demo10", "demo11", 7_25, "keep it up"),
]


def _as(user_id: uuid.UUID) -> Principal:
    return Principal(subject=str(user_id), role=Role.USER, session_id="seed")


async def seed(settings: PaymentsSettings) -> str:
    """Fund the demo wallets and send the demo tips still missing; a one-line summary."""
    runtime = build_runtime(SPEC, settings)
    deps = Deps.from_runtime(runtime)
    try:
        try:
            ids = await seeding.user_ids(runtime, DEMO)
        except DomainError as exc:
            return f"users service not reachable ({exc.message}): demo money skipped"
        deposits, events = Deposits(deps), Events(deps)
        for name in DEMO:
            payment = await deposits.create(
                _as(ids[name]),
                DEPOSIT,
                "USD",
                pb.PROVIDER_SANDBOX,
                f"seed-deposit-{name}",
                pb.SANDBOX_BEHAVIOR_SILENT,
            )
            if payment.state == pb.PAYMENT_STATE_PENDING:
                payload, signature = deps.sandbox.event(
                    payment.provider_reference, DEPOSIT, "USD", event_id=f"seed-{payment.id}"
                )
                await events.handle(pb.PROVIDER_SANDBOX, payload, signature)
        tips = Tips(deps, Wallets(deps))
        for n, (sender, recipient, cents, note) in enumerate(TIPS):
            await tips.tip(_as(ids[sender]), ids[recipient], cents, "USD", note, f"seed-tip-{n}")
        return f"{len(DEMO)} funded wallets, {len(TIPS)} tips in place"
    finally:
        await deps.close()
        await runtime.db.dispose()
        await runtime.redis.aclose()


if __name__ == "__main__":
    summary = asyncio.run(seed(load_settings(PaymentsSettings, SPEC.name)))
    print(f"payments: {summary}")

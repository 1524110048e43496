"""The demo seed of `make run`: funded demo wallets and a few tips, through the service's own
logic, and nothing more on a second run."""

from __future__ import annotations

from collections import Counter

from daira.payments.v1 import payments_pb2 as pb
from daira.users.v1 import users_pb2
from services.payments import seed as payments_seed
from services.users import seed as users_seed
from tests.users.conftest import users_settings

from .conftest import FEE_BASIS_POINTS


async def test_the_demo_wallets_are_funded_and_tipped_once(
    stub, users_stub, admin, settings, users_db_url, redis_url
) -> None:
    await users_seed.seed(users_settings(users_db_url, redis_url))
    first = await payments_seed.seed(settings)
    after_first = await demo_wallets(stub, users_stub, admin)
    second = await payments_seed.seed(settings)
    assert first == second == "20 funded wallets, 6 tips in place"
    assert await demo_wallets(stub, users_stub, admin) == after_first
    expected: Counter[str] = Counter({name: payments_seed.DEPOSIT for name in payments_seed.DEMO})
    for sender, recipient, cents, _ in payments_seed.TIPS:
        expected[sender] -= cents
        expected[recipient] += cents - cents * FEE_BASIS_POINTS // 10_000
    assert after_first == dict(expected)


async def demo_wallets(stub, users_stub, admin) -> dict[str, int]:
    found = await users_stub.LookupUsers(
        users_pb2.LookupUsersRequest(usernames=payments_seed.DEMO), metadata=admin.auth
    )
    wallets = {}
    for user in found.users:
        request = pb.GetWalletRequest(user_id=user.id, currency_code="USD")
        reply = await stub.GetWallet(request, metadata=admin.auth)
        wallets[user.username] = reply.wallet.available_balance
    return wallets

"""The demo seed of `make run`: the graph it promises, written through the service's logic,
and nothing more on a second run."""

from __future__ import annotations

from daira.social.v1 import social_pb2 as pb
from daira.users.v1 import users_pb2
from services.content import seed as content_seed
from services.social import seed as social_seed
from services.users import seed as users_seed
from tests.content.conftest import content_settings
from tests.users.conftest import users_settings

from .conftest import social_settings


async def test_the_demo_graph_is_seeded_once(
    stub,
    users_stub,
    service_auth,
    users_db_url,
    content_db_url,
    social_db_url,
    redis_url,
    users_server,
    content_server,
):
    users_address = f"127.0.0.1:{users_server.port}"
    content_address = f"127.0.0.1:{content_server.port}"
    await users_seed.seed(users_settings(users_db_url, redis_url))
    await content_seed.seed(content_settings(content_db_url, redis_url, users_address))
    settings = social_settings(social_db_url, redis_url, users_address, content_address)

    first = await social_seed.seed(settings)
    stats_after_first = await demo_stats(stub, users_stub, service_auth)
    second = await social_seed.seed(settings)

    assert first == second
    assert int(first.split(", ")[-1].split()[0]) > 0, first  # "… N reactions in place"
    demo = await demo_stats(stub, users_stub, service_auth)
    assert demo == stats_after_first
    ids = demo["ids"]
    assert demo["demo07"] == (2, 2, 1)  # demo05 and demo08 approved, demo08 a friend
    assert demo["demo01"] == (3, 2, 1)  # followed by demo19, demo20 and demo02 (a friend)
    requests = await stub.ListFollowers(
        pb.ListFollowersRequest(user_id=ids["demo07"]), metadata=service_auth
    )
    assert {c.user_id for c in requests.followers} == {ids["demo05"], ids["demo08"]}
    seen = pb.GetRelationshipsRequest(
        viewer_id=ids["demo05"], user_ids=[ids["demo15"], ids["demo07"]]
    )
    blocking, following = (await stub.GetRelationships(seen, metadata=service_auth)).relationships
    assert (blocking.blocking, following.following) == (True, True)


async def demo_stats(stub, users_stub, service_auth) -> dict:
    names = list(social_seed.DEMO)
    found = await users_stub.LookupUsers(
        users_pb2.LookupUsersRequest(usernames=names), metadata=service_auth
    )
    ids = {user.username: user.id for user in found.users}
    reply = await stub.GetUserStats(
        pb.GetUserStatsRequest(user_ids=[ids[n] for n in names]), metadata=service_auth
    )
    counts = {
        name: (s.followers_count, s.following_count, s.friends_count)
        for name, s in zip(names, reply.stats, strict=True)
    }
    return {"ids": ids, **counts}

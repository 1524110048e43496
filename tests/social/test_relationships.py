"""GetRelationships (how a viewer relates to up to 100 users, in one call) and
GetUserStats (exact counts of up to 100 users)."""

from __future__ import annotations

import uuid

import grpc

from daira.social.v1 import social_pb2 as pb

from .conftest import follow, lock

FLAGS = ("following", "followed_by", "requested", "blocking", "blocked_by", "muting", "friends")


def flags(relationship: pb.Relationship) -> set[str]:
    return {flag for flag in FLAGS if getattr(relationship, flag)}


async def test_every_relationship_in_one_call_in_the_order_asked(stub, users_stub, accounts, alice):
    friend, fan, idol, asked, blocked, blocker, muted, stranger = [
        await accounts.create() for _ in range(8)
    ]
    await follow(stub, alice, friend)
    await follow(stub, friend, alice)
    await follow(stub, fan, alice)
    await follow(stub, alice, idol)
    await lock(users_stub, asked)
    await follow(stub, alice, asked)
    await stub.Block(pb.BlockRequest(user_id=blocked.id), metadata=alice.auth)
    await stub.Block(pb.BlockRequest(user_id=alice.id), metadata=blocker.auth)
    await stub.Mute(pb.MuteRequest(user_id=muted.id), metadata=alice.auth)
    others = [stranger, muted, blocker, blocked, asked, idol, fan, friend]

    request = pb.GetRelationshipsRequest(user_ids=[o.id for o in others] + [friend.id])
    reply = await stub.GetRelationships(request, metadata=alice.auth)

    assert [r.user_id for r in reply.relationships] == [o.id for o in others]
    assert [flags(r) for r in reply.relationships] == [
        set(),
        {"muting"},
        {"blocked_by"},
        {"blocking"},
        {"requested"},
        {"following"},
        {"followed_by"},
        {"following", "followed_by", "friends"},
    ]


async def test_a_service_asks_for_any_viewer(stub, service_auth, alice, bob):
    await follow(stub, alice, bob)
    request = pb.GetRelationshipsRequest(viewer_id=bob.id, user_ids=[alice.id])

    [seen] = (await stub.GetRelationships(request, metadata=service_auth)).relationships

    assert flags(seen) == {"followed_by"}


async def test_a_service_must_name_the_viewer(stub, rejected, service_auth, alice):
    request = pb.GetRelationshipsRequest(user_ids=[alice.id])

    failure = await rejected(stub.GetRelationships(request, metadata=service_auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["viewer_id"]


async def test_a_user_may_not_ask_as_another_viewer(stub, rejected, alice, bob):
    request = pb.GetRelationshipsRequest(viewer_id=bob.id, user_ids=[alice.id])

    failure = await rejected(stub.GetRelationships(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def test_a_hundred_users_at_most(stub, rejected, alice):
    ids = [str(uuid.uuid4()) for _ in range(100)]

    reply = await stub.GetRelationships(
        pb.GetRelationshipsRequest(user_ids=ids), metadata=alice.auth
    )
    failure = await rejected(
        stub.GetRelationships(
            pb.GetRelationshipsRequest(user_ids=[*ids, str(uuid.uuid4())]), metadata=alice.auth
        )
    )

    assert len(reply.relationships) == 100
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["user_ids"]


async def test_no_users_no_relationships(stub, alice):
    reply = await stub.GetRelationships(pb.GetRelationshipsRequest(), metadata=alice.auth)

    assert list(reply.relationships) == []


async def test_a_malformed_id_is_named(stub, rejected, alice):
    request = pb.GetRelationshipsRequest(user_ids=[str(uuid.uuid4()), "x"])

    failure = await rejected(stub.GetRelationships(request, metadata=alice.auth))

    assert failure.fields == ["user_ids[1]"]


async def test_user_stats_of_many_users_in_order(stub, accounts, alice, bob, carol):
    await follow(stub, alice, bob)
    await follow(stub, bob, alice)
    await follow(stub, carol, bob)
    unknown = str(uuid.uuid4())
    request = pb.GetUserStatsRequest(user_ids=[bob.id, unknown, alice.id, carol.id, bob.id])

    reply = await stub.GetUserStats(request, metadata=carol.auth)

    counts = [
        (s.user_id, s.followers_count, s.following_count, s.friends_count) for s in reply.stats
    ]
    assert counts == [
        (bob.id, 2, 1, 1),
        (unknown, 0, 0, 0),
        (alice.id, 1, 1, 1),
        (carol.id, 0, 1, 0),
    ]


async def test_user_stats_of_a_hundred_users_at_most(stub, rejected, alice):
    request = pb.GetUserStatsRequest(user_ids=[str(uuid.uuid4()) for _ in range(101)])

    failure = await rejected(stub.GetUserStats(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT

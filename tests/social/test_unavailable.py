"""Users or content down: the calls that need them are UNAVAILABLE, naming the service and
changing nothing; the calls that do not, still answer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import grpc
import pytest

from daira.social.v1 import social_pb2 as pb
from daira.social.v1 import social_pb2_grpc

from .conftest import (
    CLOSED_ADDRESS,
    create_post,
    follow,
    open_channel,
    post_target,
    social_service,
)

# A call must not wait out a downstream timeout to learn that the service is down.
FAST_FAILURE_SECONDS = 1.0


@pytest.fixture(scope="module")
async def isolated(social_db_url, redis_url) -> AsyncIterator[social_pb2_grpc.SocialServiceStub]:
    """The social service with neither users nor content reachable."""
    async with social_service(social_db_url, redis_url, CLOSED_ADDRESS, CLOSED_ADDRESS) as down:
        channel = open_channel(down.port)
        yield social_pb2_grpc.SocialServiceStub(channel)
        await channel.close()


@pytest.mark.parametrize(
    ("call", "request_type"),
    [
        ("Follow", pb.FollowRequest),
        ("Block", pb.BlockRequest),
        ("Mute", pb.MuteRequest),
        ("ListFollowers", pb.ListFollowersRequest),
    ],
)
async def test_calls_that_ask_users_are_unavailable(
    isolated, stub, rejected, alice, bob, call, request_type
):
    started = time.monotonic()
    failure = await rejected(
        getattr(isolated, call)(request_type(user_id=bob.id), metadata=alice.auth)
    )

    assert failure.code == grpc.StatusCode.UNAVAILABLE
    assert failure.reasons == ["UPSTREAM_UNAVAILABLE"]
    assert "users" in failure.message
    assert time.monotonic() - started < FAST_FAILURE_SECONDS
    seen = (
        await stub.GetRelationships(
            pb.GetRelationshipsRequest(user_ids=[bob.id]), metadata=alice.auth
        )
    ).relationships[0]
    assert (seen.following, seen.blocking, seen.muting) == (False, False, False)


async def test_react_to_a_post_is_unavailable_without_content(
    isolated, rejected, alice, content_stub
):
    post = await create_post(content_stub, alice)
    request = pb.ReactRequest(target=post_target(post.id), kind=pb.REACTION_KIND_LIKE)

    failure = await rejected(isolated.React(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.UNAVAILABLE
    assert "content" in failure.message


async def test_what_social_knows_alone_still_answers(isolated, stub, alice, bob):
    await follow(stub, alice, bob)

    await isolated.Unfollow(pb.UnfollowRequest(user_id=bob.id), metadata=alice.auth)
    own = await isolated.ListFollowing(pb.ListFollowingRequest(), metadata=alice.auth)
    unread = await isolated.CountUnreadNotifications(
        pb.CountUnreadNotificationsRequest(), metadata=bob.auth
    )

    assert list(own.following) == []
    assert unread.unread_count == 1

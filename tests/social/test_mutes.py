"""Mutes: for a while or until Unmute, notifications silenced or not, never told to the
muted user, and over when their time is up without anything running."""

from __future__ import annotations

import uuid
from datetime import timedelta

import grpc
import pytest
from google.protobuf import duration_pb2

from daira.social.v1 import social_pb2 as pb

from .conftest import follow, notified, relationship


def mute(stub, who, whom, *, notifications=False, duration: timedelta | None = None):
    request = pb.MuteRequest(user_id=whom.id, notifications=notifications)
    if duration is not None:
        request.duration.FromTimedelta(duration)
    return stub.Mute(request, metadata=who.auth)


async def mutes(stub, account) -> list[pb.Mute]:
    return list((await stub.ListMutes(pb.ListMutesRequest(), metadata=account.auth)).mutes)


async def expire(social_db, muter, muted) -> None:
    """Let the mute's time run out, as if it had."""
    await social_db.sql(
        "UPDATE mutes SET expires_at = now() - interval '1 second' "
        "WHERE muter_id = %s AND muted_id = %s",
        muter.id,
        muted.id,
    )


async def test_mute_until_unmuted(stub, alice, bob):
    muted = (await mute(stub, alice, bob)).mute

    assert muted.user_id == bob.id
    assert muted.notifications is False
    assert not muted.HasField("expire_time")
    assert [m.user_id for m in await mutes(stub, alice)] == [bob.id]
    assert (await relationship(stub, alice, bob)).muting is True


async def test_mute_for_a_while_says_when_it_ends(stub, alice, bob):
    muted = (await mute(stub, alice, bob, duration=timedelta(hours=1))).mute

    lasts = muted.expire_time.ToDatetime() - muted.create_time.ToDatetime()
    assert lasts == timedelta(hours=1)


async def test_the_muted_user_is_never_told(stub, alice, bob):
    await mute(stub, alice, bob, notifications=True)

    seen_by_bob = await relationship(stub, bob, alice)

    assert (seen_by_bob.muting, seen_by_bob.blocked_by, seen_by_bob.blocking) == (False,) * 3
    assert await notified(stub, bob) == []
    assert await mutes(stub, bob) == []


async def test_a_mute_of_notifications_silences_them(stub, alice, bob, carol):
    await mute(stub, alice, bob, notifications=True)
    await mute(stub, alice, carol, notifications=False)

    await follow(stub, bob, alice)
    await follow(stub, carol, alice)

    assert await notified(stub, alice) == [(pb.NOTIFICATION_KIND_FOLLOW, carol.id)]


async def test_an_expired_mute_no_longer_applies(stub, social_db, alice, bob):
    await mute(stub, alice, bob, notifications=True, duration=timedelta(minutes=5))

    await expire(social_db, alice, bob)

    assert (await relationship(stub, alice, bob)).muting is False
    assert await mutes(stub, alice) == []
    await follow(stub, bob, alice)
    assert await notified(stub, alice) == [(pb.NOTIFICATION_KIND_FOLLOW, bob.id)]


async def test_muting_again_replaces_the_mute(stub, social_db, alice, bob):
    await mute(stub, alice, bob, duration=timedelta(minutes=5))
    await expire(social_db, alice, bob)

    again = (await mute(stub, alice, bob, notifications=True)).mute

    assert again.notifications is True
    assert not again.HasField("expire_time")
    assert [m.user_id for m in await mutes(stub, alice)] == [bob.id]


async def test_unmute_ends_it_and_is_idempotent(stub, alice, bob):
    await mute(stub, alice, bob)

    for _ in range(2):
        await stub.Unmute(pb.UnmuteRequest(user_id=bob.id), metadata=alice.auth)

    assert await mutes(stub, alice) == []
    assert (await relationship(stub, alice, bob)).muting is False


async def test_mutes_are_listed_newest_first(stub, accounts, alice):
    others = [await accounts.create() for _ in range(3)]
    for other in others:
        await mute(stub, alice, other)
    request = pb.ListMutesRequest(page_size=2)

    first = await stub.ListMutes(request, metadata=alice.auth)
    request.page_token = first.next_page_token
    second = await stub.ListMutes(request, metadata=alice.auth)

    listed = [m.user_id for m in [*first.mutes, *second.mutes]]
    assert listed == [other.id for other in reversed(others)]
    assert not second.next_page_token


@pytest.mark.parametrize(
    "duration",
    [
        duration_pb2.Duration(seconds=0),
        duration_pb2.Duration(seconds=-60),
        duration_pb2.Duration(seconds=366 * 86400),
        duration_pb2.Duration(seconds=1, nanos=-5),
    ],
    ids=["zero", "negative", "over-a-year", "mixed-signs"],
)
async def test_a_mute_duration_must_be_positive_and_at_most_a_year(
    stub, rejected, alice, bob, duration
):
    request = pb.MuteRequest(user_id=bob.id, duration=duration)

    failure = await rejected(stub.Mute(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["duration"]


async def test_muting_an_unknown_user_is_not_found(stub, rejected, alice):
    request = pb.MuteRequest(user_id=str(uuid.uuid4()))

    failure = await rejected(stub.Mute(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_muting_oneself_is_invalid(stub, rejected, alice):
    failure = await rejected(mute(stub, alice, alice))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT

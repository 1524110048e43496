"""Profiles: owner-only, masked, validated, etag-guarded updates that show at once."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from google.protobuf import struct_pb2

from daira.users.v1 import users_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def get_profile(stub, account, user_id: str | None = None) -> users_pb2.Profile:
    request = users_pb2.GetProfileRequest(user_id=user_id or account.id)
    return (await stub.GetProfile(request, metadata=account.auth)).profile


def update(stub, account, paths: list[str], etag: str = "", user_id: str = "", **fields):
    profile = users_pb2.Profile(user_id=user_id or account.id, etag=etag)
    style = fields.pop("style_config", None)
    for name, value in fields.items():
        setattr(profile, name, value)
    if style is not None:
        profile.style_config.update(style)
    request = users_pb2.UpdateProfileRequest(profile=profile)
    request.update_mask.paths.extend(paths)
    return stub.UpdateProfile(request, metadata=account.auth)


async def test_get_profile_of_a_new_user_is_empty_but_for_the_display_name(alice, bob, stub):
    profile = await get_profile(stub, bob, alice.id)

    assert profile.user_id == alice.id
    assert profile.display_name == alice.username
    assert (profile.bio, profile.location, profile.avatar_url, profile.website) == ("",) * 4
    assert profile.style_config == struct_pb2.Struct()
    assert profile.etag


async def test_get_profile_without_user_id_is_the_callers(alice, stub):
    profile = (await stub.GetProfile(users_pb2.GetProfileRequest(), metadata=alice.auth)).profile

    assert profile.user_id == alice.id


async def test_get_profile_of_an_unknown_user_is_not_found(alice, stub, rejected):
    failure = await rejected(
        stub.GetProfile(users_pb2.GetProfileRequest(user_id=str(uuid.uuid4())), metadata=alice.auth)
    )

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_update_profile_changes_only_the_masked_fields(alice, stub):
    updated = (
        await update(
            stub,
            alice,
            ["bio", "website"],
            bio="Hello",
            website="https://a.example",
            location="ignored, not in the mask",
        )
    ).profile

    assert updated.bio == "Hello"
    assert updated.website == "https://a.example"
    assert updated.location == ""
    assert (await get_profile(stub, alice)) == updated


async def test_update_profile_sets_every_updatable_field(alice, stub):
    style = {"theme": "dark", "accent_color": "#12abEF", "font": "mono", "layout": "grid"}

    updated = (
        await update(
            stub,
            alice,
            ["display_name", "bio", "location", "avatar_url", "website", "style_config"],
            display_name="Alice Liddell",
            bio="b" * 500,
            location="l" * 100,
            avatar_url="http://cdn.example/" + "a" * 2000,
            website="https://alice.example/",
            style_config=style,
        )
    ).profile

    assert updated.display_name == "Alice Liddell"
    assert updated.bio == "b" * 500
    assert updated.location == "l" * 100
    assert updated.avatar_url.startswith("http://cdn.example/")
    assert updated.website == "https://alice.example/"
    assert dict(updated.style_config) == style


async def test_update_profile_of_another_user_is_permission_denied(alice, bob, stub, rejected):
    failure = await rejected(update(stub, bob, ["bio"], user_id=alice.id, bio="hacked"))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert (await get_profile(stub, alice)).bio == ""


async def test_moderator_may_not_update_another_users_profile(alice, moderator, stub, rejected):
    failure = await rejected(update(stub, moderator, ["bio"], user_id=alice.id, bio="x"))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def test_admin_may_update_another_users_profile(alice, admin, stub):
    updated = (await update(stub, admin, ["bio"], user_id=alice.id, bio="moderated")).profile

    assert updated.bio == "moderated"
    assert (await get_profile(stub, alice)).bio == "moderated"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", ""),
        ("display_name", "d" * 51),
        ("bio", "b" * 501),
        ("location", "l" * 101),
        ("avatar_url", "ftp://cdn.example/a.png"),
        ("avatar_url", "javascript:alert(1)"),
        ("avatar_url", "not a url"),
        ("website", "https://example.com/" + "w" * 2030),
        ("website", "//example.com/no-scheme"),
        ("website", "http://[::1/unbalanced-bracket"),
    ],
    ids=[
        "empty-display-name",
        "long-display-name",
        "long-bio",
        "long-location",
        "ftp-avatar",
        "javascript-avatar",
        "avatar-not-url",
        "long-website",
        "website-without-scheme",
        "website-unparseable",
    ],
)
async def test_update_profile_rejects_an_invalid_field(alice, stub, rejected, field, value):
    failure = await rejected(update(stub, alice, [field], **{field: value}))

    assert failure.code == INVALID
    assert failure.fields == [f"profile.{field}"]


@pytest.mark.parametrize(
    "style",
    [
        {"theme": "blue"},
        {"accent_color": "red"},
        {"accent_color": "#12345"},
        {"accent_color": "#gggggg"},
        {"font": "comic"},
        {"layout": "masonry"},
        {"theme": 1},
        {"wallpaper": "cats.png"},
        {"theme": "dark", "nested": {"a": 1}},
    ],
    ids=[
        "theme",
        "accent-name",
        "accent-short",
        "accent-not-hex",
        "font",
        "layout",
        "theme-number",
        "unknown-key",
        "unknown-nested",
    ],
)
async def test_update_profile_rejects_style_config_outside_the_schema(alice, stub, rejected, style):
    failure = await rejected(update(stub, alice, ["style_config"], style_config=style))

    assert failure.code == INVALID
    assert failure.fields == ["profile.style_config"]
    assert dict((await get_profile(stub, alice)).style_config) == {}


@pytest.mark.parametrize("paths", [[], ["email"], ["bio", "nope"], ["user_id"]])
async def test_update_profile_rejects_an_empty_or_unknown_update_mask(alice, stub, rejected, paths):
    failure = await rejected(update(stub, alice, paths, bio="x"))

    assert failure.code == INVALID
    assert failure.fields == ["update_mask"]


async def test_update_profile_returns_a_new_etag_each_time(alice, stub):
    before = (await get_profile(stub, alice)).etag
    first = (await update(stub, alice, ["bio"], etag=before, bio="one")).profile.etag
    second = (await update(stub, alice, ["bio"], etag=first, bio="two")).profile.etag

    assert len({before, first, second}) == 3


async def test_update_profile_with_a_stale_etag_is_aborted_and_changes_nothing(
    alice, stub, rejected
):
    stale = (await get_profile(stub, alice)).etag
    current = (await update(stub, alice, ["bio"], etag=stale, bio="first")).profile

    failure = await rejected(update(stub, alice, ["bio"], etag=stale, bio="second"))

    assert failure.code == grpc.StatusCode.ABORTED
    assert (await get_profile(stub, alice)) == current


async def test_update_profile_with_an_empty_etag_is_unconditional(alice, stub):
    await update(stub, alice, ["bio"], bio="first")

    updated = (await update(stub, alice, ["bio"], etag="", bio="second")).profile

    assert updated.bio == "second"


async def test_update_profile_shows_at_once_in_get_profile_and_get_user(alice, bob, stub):
    # Read first, so both are cached.
    await get_profile(stub, bob, alice.id)
    await stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=bob.auth)

    await update(stub, alice, ["display_name"], display_name="Renamed Alice")

    assert (await get_profile(stub, bob, alice.id)).display_name == "Renamed Alice"
    user = (await stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=bob.auth)).user
    assert user.display_name == "Renamed Alice"


async def test_parallel_updates_with_one_etag_let_exactly_one_win(alice, stub):
    etag = (await get_profile(stub, alice)).etag

    outcomes = await asyncio.gather(
        *(update(stub, alice, ["bio"], etag=etag, bio=f"writer {i}") for i in range(10)),
        return_exceptions=True,
    )

    winners = [o.profile for o in outcomes if isinstance(o, users_pb2.UpdateProfileResponse)]
    codes = [o.code() for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(winners) == 1
    assert codes == [grpc.StatusCode.ABORTED] * 9
    assert (await get_profile(stub, alice)).bio == winners[0].bio


async def test_get_profile_without_user_id_by_a_service_is_refused(stub, service_auth, rejected):
    failure = await rejected(stub.GetProfile(users_pb2.GetProfileRequest(), metadata=service_auth))

    assert failure.code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED)


async def test_updating_a_deleted_users_profile_is_not_found_and_changes_nothing(
    alice, admin, stub, accounts, rejected
):
    await stub.DeleteUser(users_pb2.DeleteUserRequest(id=alice.id), metadata=alice.auth)

    failure = await rejected(update(stub, admin, ["bio"], user_id=alice.id, bio="resurrected"))

    assert failure.code == grpc.StatusCode.NOT_FOUND
    [(bio,)] = await accounts.sql("SELECT bio FROM user_profiles WHERE user_id = %s", alice.id)
    assert bio == ""

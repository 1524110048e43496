"""Profiles: cached reads, and masked, etag-guarded updates that invalidate the cache."""

from __future__ import annotations

import uuid
from typing import Any

from google.protobuf import json_format

from daira.users.v1 import users_pb2
from services.users import convert, repository_profiles, validation
from services.users.accounts import user_key
from services.users.deps import Deps, now
from shared.auth import Principal, Role, require_owner
from shared.errors import Aborted, InvalidArgument, NotFound
from shared.messages import version_from_etag
from shared.tiers import Tier
from shared.validation import bounded_text, web_url

UPDATABLE = frozenset(
    {"display_name", "bio", "location", "avatar_url", "website", "style_config", "locked"}
)


def profile_key(user_id: uuid.UUID) -> str:
    return f"profile:{user_id}"


class Profiles:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def get(self, user_id: uuid.UUID) -> users_pb2.Profile:
        async def load() -> bytes | None:
            async with self._deps.db.connection() as conn:
                row = await repository_profiles.get_profile(conn, user_id)
            return None if row is None else convert.profile(row).SerializeToString()

        raw = await self._deps.cache.get_or_load(Tier.PROFILES, profile_key(user_id), load)
        if raw is None:
            raise NotFound("profile", str(user_id))
        return users_pb2.Profile.FromString(raw)

    async def update(
        self, principal: Principal, changes: users_pb2.Profile, paths: list[str]
    ) -> users_pb2.Profile:
        user_id = _user_id(changes.user_id)
        require_owner(principal, user_id)
        values, account_values = _validated(changes, paths)
        expected = version_from_etag("profile.etag", changes.etag)
        if principal.role is not Role.ADMIN:
            await self._deps.require_live_session(principal)
        async with self._deps.db.transaction() as conn:
            applied = await repository_profiles.update_profile(
                conn,
                user_id,
                expected_version=expected,
                profile_values=values,
                account_values=account_values,
                now=now(),
            )
            if not applied:
                if await repository_profiles.get_profile(conn, user_id) is None:
                    raise NotFound("profile", str(user_id))
                raise Aborted(
                    "the profile changed since it was read; read it again",
                    reason="ETAG_MISMATCH",
                )
            row = await repository_profiles.get_profile(conn, user_id)
        await self._deps.cache.delete(Tier.PROFILES, profile_key(user_id), user_key(user_id))
        assert row is not None
        return convert.profile(row)


def _user_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument("profile.user_id", "must be a UUID") from None


def _validated(
    changes: users_pb2.Profile, paths: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Column values of the masked fields: the profile row's, and the users row's."""
    if not paths:
        raise InvalidArgument("update_mask", "name at least one field to update")
    unknown = [p for p in paths if p not in UPDATABLE]
    if unknown:
        raise InvalidArgument("update_mask", f"{unknown[0]!r} cannot be updated")
    values: dict[str, Any] = {}
    account_values: dict[str, Any] = {}
    for path in set(paths):
        if path == "display_name":
            account_values["display_name"] = validation.display_name(
                "profile.display_name", changes.display_name
            )
        elif path == "locked":
            account_values["locked"] = changes.locked
        elif path == "bio":
            values["bio"] = bounded_text("profile.bio", changes.bio, validation.BIO_MAX)
        elif path == "location":
            values["location"] = bounded_text(
                "profile.location", changes.location, validation.LOCATION_MAX
            )
        elif path in ("avatar_url", "website"):
            values[path] = web_url(f"profile.{path}", getattr(changes, path), required=False)
        else:
            values["style_config"] = validation.style_config(
                "profile.style_config", json_format.MessageToDict(changes.style_config)
            )
    return values, account_values

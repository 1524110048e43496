"""The UserService servicer: requests in, domain calls, responses out.

Who may call each RPC is declared in ACCESS and enforced by the shared pipeline
before a handler runs; finer rules (self or admin) live in the logic modules.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeAlias

import grpc

from daira.users.v1 import users_pb2 as pb
from daira.users.v1 import users_pb2_grpc
from services.users import convert
from services.users.accounts import MAX_BATCH, Accounts
from services.users.deps import Deps
from services.users.profiles import Profiles
from services.users.sessions import Issued, Sessions
from services.users.storage import Storage
from shared.auth import Access, Principal, Role, current_principal, optional_principal
from shared.errors import InvalidArgument
from shared.eventing import Events
from shared.ids import canonical_id, canonical_ids, parse_id
from shared.messages import timestamp
from shared.server import Endpoint, Runtime

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

ACCESS = {
    "Register": Access.PUBLIC,
    "Login": Access.PUBLIC,
    "RefreshSession": Access.PUBLIC,
    "Logout": Access.USER,
    "ListSessions": Access.USER,
    "RevokeAllSessions": Access.USER,
    "GetUser": Access.USER,
    "BatchGetUsers": Access.USER,
    "LookupUsers": Access.USER,
    "SearchUsers": Access.USER,
    "GetProfile": Access.USER,
    "UpdateProfile": Access.USER,
    "ChangePassword": Access.USER,
    "DeleteUser": Access.USER,
    "SetUserStatus": Access.STAFF,
    "GetStorageUsage": Access.USER,
    "ReserveStorage": Access.SERVICE,
    "ReleaseStorage": Access.SERVICE,
    "ListSubscriptionTiers": Access.PUBLIC,
    "SetSubscriptionTier": Access.ADMIN,
}


def _sees_email(viewer: Principal | None, user_id: str) -> bool:
    return viewer is not None and (viewer.role.value != "user" or viewer.subject == user_id)


def _user_or_caller(value: str) -> uuid.UUID:
    """The named user, or the calling user; a service has to name one."""
    if value:
        return parse_id("user_id", value)
    principal = current_principal()
    if principal.role is Role.SERVICE:
        raise InvalidArgument("user_id", "is required when a service calls")
    return principal.user_id


class UserServicer(users_pb2_grpc.UserServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.accounts = Accounts(deps)
        self.sessions = Sessions(deps)
        self.profiles = Profiles(deps)
        self.storage = Storage(deps, self.accounts)

    async def Register(self, request: pb.RegisterRequest, context: Context) -> pb.RegisterResponse:
        user = await self.accounts.register(
            request.username, request.email, request.password, request.display_name
        )
        return pb.RegisterResponse(user=user)

    async def Login(self, request: pb.LoginRequest, context: Context) -> pb.LoginResponse:
        issued, row = await self.sessions.login(request.login, request.password, request.device)
        return pb.LoginResponse(**_tokens(issued), user=convert.user(row))

    async def RefreshSession(
        self, request: pb.RefreshSessionRequest, context: Context
    ) -> pb.RefreshSessionResponse:
        issued = await self.sessions.refresh(request.refresh_token)
        return pb.RefreshSessionResponse(**_tokens(issued))

    async def Logout(self, request: pb.LogoutRequest, context: Context) -> pb.LogoutResponse:
        session = parse_id("session_id", request.session_id) if request.session_id else None
        await self.sessions.logout(current_principal(), session)
        return pb.LogoutResponse()

    async def ListSessions(
        self, request: pb.ListSessionsRequest, context: Context
    ) -> pb.ListSessionsResponse:
        return pb.ListSessionsResponse(sessions=await self.sessions.list(current_principal()))

    async def RevokeAllSessions(
        self, request: pb.RevokeAllSessionsRequest, context: Context
    ) -> pb.RevokeAllSessionsResponse:
        count = await self.sessions.revoke_all(current_principal())
        return pb.RevokeAllSessionsResponse(revoked_count=count)

    async def GetUser(self, request: pb.GetUserRequest, context: Context) -> pb.GetUserResponse:
        fields = convert.read_mask(request.read_mask)
        user = await self.accounts.get(canonical_id("id", request.id))
        shown = convert.present(user, fields, _sees_email(optional_principal(), user.id))
        return pb.GetUserResponse(user=shown)

    async def BatchGetUsers(
        self, request: pb.BatchGetUsersRequest, context: Context
    ) -> pb.BatchGetUsersResponse:
        fields = convert.read_mask(request.read_mask)
        ids = canonical_ids("ids", request.ids, MAX_BATCH)
        found = await self.accounts.get_many(ids)
        viewer = optional_principal()
        return pb.BatchGetUsersResponse(
            users=[
                convert.present(found[i], fields, _sees_email(viewer, i)) for i in ids if i in found
            ],
            missing_ids=[i for i in ids if i not in found],
        )

    async def LookupUsers(
        self, request: pb.LookupUsersRequest, context: Context
    ) -> pb.LookupUsersResponse:
        users = await self.accounts.lookup(request.usernames)
        viewer = optional_principal()
        return pb.LookupUsersResponse(
            users=[convert.present(u, None, _sees_email(viewer, u.id)) for u in users]
        )

    async def SearchUsers(
        self, request: pb.SearchUsersRequest, context: Context
    ) -> pb.SearchUsersResponse:
        users, token = await self.accounts.search(
            request.query, request.page_size, request.page_token
        )
        viewer = optional_principal()
        shown = [convert.present(u, None, _sees_email(viewer, u.id)) for u in users]
        return pb.SearchUsersResponse(users=shown, next_page_token=token)

    async def GetProfile(
        self, request: pb.GetProfileRequest, context: Context
    ) -> pb.GetProfileResponse:
        profile = await self.profiles.get(_user_or_caller(request.user_id))
        return pb.GetProfileResponse(profile=profile)

    async def UpdateProfile(
        self, request: pb.UpdateProfileRequest, context: Context
    ) -> pb.UpdateProfileResponse:
        profile = await self.profiles.update(
            current_principal(), request.profile, list(request.update_mask.paths)
        )
        return pb.UpdateProfileResponse(profile=profile)

    async def ChangePassword(
        self, request: pb.ChangePasswordRequest, context: Context
    ) -> pb.ChangePasswordResponse:
        await self.sessions.change_password(
            current_principal(), request.current_password, request.new_password
        )
        return pb.ChangePasswordResponse()

    async def DeleteUser(
        self, request: pb.DeleteUserRequest, context: Context
    ) -> pb.DeleteUserResponse:
        await self.accounts.delete(current_principal(), parse_id("id", request.id))
        return pb.DeleteUserResponse()

    async def SetUserStatus(
        self, request: pb.SetUserStatusRequest, context: Context
    ) -> pb.SetUserStatusResponse:
        until = convert.moment("until", request.until) if request.HasField("until") else None
        user = await self.accounts.set_status(
            current_principal(),
            parse_id("user_id", request.user_id),
            request.status,
            request.reason,
            until,
        )
        return pb.SetUserStatusResponse(user=user)

    async def GetStorageUsage(
        self, request: pb.GetStorageUsageRequest, context: Context
    ) -> pb.GetStorageUsageResponse:
        usage = await self.storage.usage(current_principal(), _user_or_caller(request.user_id))
        return pb.GetStorageUsageResponse(usage=usage)

    async def ReserveStorage(
        self, request: pb.ReserveStorageRequest, context: Context
    ) -> pb.ReserveStorageResponse:
        usage = await self.storage.reserve(
            parse_id("user_id", request.user_id), request.bytes, request.request_id
        )
        return pb.ReserveStorageResponse(usage=usage)

    async def ReleaseStorage(
        self, request: pb.ReleaseStorageRequest, context: Context
    ) -> pb.ReleaseStorageResponse:
        usage = await self.storage.release(
            parse_id("user_id", request.user_id), request.reservation_request_id
        )
        return pb.ReleaseStorageResponse(usage=usage)

    async def ListSubscriptionTiers(
        self, request: pb.ListSubscriptionTiersRequest, context: Context
    ) -> pb.ListSubscriptionTiersResponse:
        return pb.ListSubscriptionTiersResponse(tiers=await self.storage.tiers())

    async def SetSubscriptionTier(
        self, request: pb.SetSubscriptionTierRequest, context: Context
    ) -> pb.SetSubscriptionTierResponse:
        usage = await self.storage.set_tier(parse_id("user_id", request.user_id), request.tier)
        return pb.SetSubscriptionTierResponse(usage=usage)


def _tokens(issued: Issued) -> dict[str, Any]:
    return {
        "access_token": issued.access_token,
        "access_token_expire_time": timestamp(issued.access_expires),
        "refresh_token": issued.refresh_token,
        "refresh_token_expire_time": timestamp(issued.refresh_expires),
        "session_id": str(issued.session_id),
    }


async def build(runtime: Runtime) -> Endpoint:
    servicer = UserServicer(Deps.from_runtime(runtime))
    # Users consumes no events; its relay publishes account deletions and status changes.
    events = Events(runtime, [])
    events.start()
    return Endpoint(
        servicer, users_pb2_grpc.add_UserServiceServicer_to_server, ACCESS, on_stop=events.close
    )

"""Harness of the users service's integration tests.

One users service per pytest worker runs in-process on a random port, against its
own PostgreSQL database (provisioned and migrated here) and the session's Redis.
Tests talk to it only through the generated stub, as a client would.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import psycopg
import pytest
from google.rpc import error_details_pb2, status_pb2

from daira.events.v1 import events_pb2
from daira.users.v1 import users_events_pb2, users_pb2, users_pb2_grpc
from services.users import SPEC
from services.users.api import build
from services.users.settings import UsersSettings
from shared.auth import TokenService
from shared.outbox import envelope
from shared.server import RunningServer
from tests import harness

SECRET = harness.SECRET
DB_PASSWORD = "users-test-password"
STATUS_DETAILS_KEY = "grpc-status-details-bin"
GRPC_SERVICE = "daira.users.v1.UserService"

Metadata = tuple[tuple[str, str], ...]


def unique(prefix: str = "t_") -> str:
    return prefix + uuid.uuid4().hex[:12]


def bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


def libpq_url(url: str) -> str:
    """A SQLAlchemy postgresql+psycopg URL as psycopg itself takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


# --- errors ----------------------------------------------------------------------------


@dataclass
class Failure:
    """A failed call, with its google.rpc details unpacked."""

    code: grpc.StatusCode
    message: str
    fields: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    retry_delay_seconds: float | None = None

    @classmethod
    def of(cls, err: grpc.aio.AioRpcError) -> Failure:
        failure = cls(err.code(), err.details() or "")
        raw = next((v for k, v in (err.trailing_metadata() or ()) if k == STATUS_DETAILS_KEY), None)
        if raw is None:
            return failure
        status = status_pb2.Status.FromString(raw)
        assert status.code == err.code().value[0], "status details disagree with the code"
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                failure.fields.extend(v.field for v in bad.field_violations)
            elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                failure.reasons.append(info.reason)
            elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                detail.Unpack(retry)
                failure.retry_delay_seconds = retry.retry_delay.ToTimedelta().total_seconds()
        return failure


async def fails(call: Awaitable[Any]) -> Failure:
    """Await a call that must fail and return its failure."""
    try:
        response = await call
    except grpc.aio.AioRpcError as err:
        return Failure.of(err)
    raise AssertionError(f"expected the call to fail, it answered {response!r}")


@pytest.fixture(scope="session")
def rejected() -> Callable[[Awaitable[Any]], Awaitable[Failure]]:
    """`failure = await rejected(stub.Method(request))`: the call must fail."""
    return fails


class CallCodes(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Records the status code of every call, so a test can refuse UNKNOWN and INTERNAL."""

    def __init__(self) -> None:
        self.codes: list[tuple[str, grpc.StatusCode]] = []

    async def intercept_unary_unary(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        call = await continuation(client_call_details, request)
        method = client_call_details.method
        if isinstance(method, bytes):
            method = method.decode()
        self.codes.append((method, await call.code()))
        return call


CALL_CODES = CallCodes()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def no_call_answers_unknown_or_internal(request: pytest.FixtureRequest) -> Iterator[None]:
    """No call of a test may answer UNKNOWN or INTERNAL, whatever the test asserts."""
    CALL_CODES.codes.clear()
    yield
    if request.node.stash.get(CALL_FAILED, False):
        return  # the test's own failure says more
    bad = [
        (method, code)
        for method, code in CALL_CODES.codes
        if code in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL)
    ]
    assert not bad, f"calls answered UNKNOWN or INTERNAL: {bad}"


# --- the service -----------------------------------------------------------------------


async def provision_and_migrate(pg_admin_url: str, database: str) -> str:
    """A database and role of its own for the users service, migrated; the service's URL."""
    return await harness.provision_and_migrate(pg_admin_url, SPEC, database, DB_PASSWORD)


def users_settings(database_url: str, redis_url: str) -> UsersSettings:
    """Cheap password hashing, so tests can register and log in by the hundred."""
    return UsersSettings(
        **harness.service_settings(database_url, redis_url),
        password_time_cost=1,
        password_memory_kib=8192,
        password_parallelism=1,
    )


async def start_users_service(database_url: str, redis_url: str) -> RunningServer:
    """Start a users service in-process and wait until its health check says SERVING."""
    return await harness.start_serving(SPEC, users_settings(database_url, redis_url), build)


def open_channel(port: int) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(f"127.0.0.1:{port}", interceptors=[CALL_CODES])


@pytest.fixture(scope="session")
async def users_db_url(pg_admin_url: str, worker_id: str) -> str:
    return await provision_and_migrate(pg_admin_url, f"daira_users_{worker_id}")


@pytest.fixture(scope="session")
async def users_server(users_db_url: str, redis_url: str) -> AsyncIterator[RunningServer]:
    running = await start_users_service(users_db_url, redis_url)
    yield running
    await running.stop(0)


@pytest.fixture(scope="session")
async def users_stub(users_server: RunningServer) -> AsyncIterator[users_pb2_grpc.UserServiceStub]:
    """The users service, for every suite (the others name their own service `stub`)."""
    channel = open_channel(users_server.port)
    yield users_pb2_grpc.UserServiceStub(channel)
    await channel.close()


@pytest.fixture(scope="session")
def stub(users_stub: users_pb2_grpc.UserServiceStub) -> users_pb2_grpc.UserServiceStub:
    return users_stub


@pytest.fixture(scope="session")
def tokens() -> TokenService:
    """Mints tokens the service accepts: same secret, same issuer."""
    return TokenService(SECRET, 300)


@pytest.fixture(scope="session")
def service_auth(tokens: TokenService) -> Metadata:
    """Metadata of another Daira service (content) calling an internal RPC."""
    return bearer(tokens.issue_service("content", ttl_seconds=3600))


# --- accounts --------------------------------------------------------------------------


@dataclass
class Account:
    id: str
    username: str
    email: str
    password: str
    access_token: str
    session_id: str
    refresh_token: str

    @property
    def auth(self) -> Metadata:
        return bearer(self.access_token)


class Accounts:
    """Registers unique users, logs them in and grants roles."""

    def __init__(self, stub: users_pb2_grpc.UserServiceStub, database_url: str) -> None:
        self.stub = stub
        self.database_url = database_url

    @staticmethod
    def new_registration(display_name: str = "", username: str = "") -> users_pb2.RegisterRequest:
        username = username or unique()
        return users_pb2.RegisterRequest(
            username=username,
            email=f"{username}@example.com",
            password="pw-" + uuid.uuid4().hex,
            display_name=display_name,
        )

    async def create(
        self, *, display_name: str = "", role: str = "user", device: str = "pytest"
    ) -> Account:
        request = self.new_registration(display_name)
        registered = await self.stub.Register(request)
        if role != "user":
            await self.sql("UPDATE users SET role = %s WHERE id = %s", role, registered.user.id)
        login = await self.login(request.username, request.password, device)
        return Account(
            id=registered.user.id,
            username=registered.user.username,
            email=request.email,
            password=request.password,
            access_token=login.access_token,
            session_id=login.session_id,
            refresh_token=login.refresh_token,
        )

    async def login(
        self, login: str, password: str, device: str = "pytest"
    ) -> users_pb2.LoginResponse:
        return await self.stub.Login(
            users_pb2.LoginRequest(login=login, password=password, device=device)
        )

    async def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        async with await psycopg.AsyncConnection.connect(
            libpq_url(self.database_url), autocommit=True
        ) as conn:
            cursor = await conn.execute(statement, params)
            return await cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="session")
def accounts(users_stub: users_pb2_grpc.UserServiceStub, users_db_url: str) -> Accounts:
    return Accounts(users_stub, users_db_url)


@pytest.fixture
async def alice(accounts: Accounts) -> Account:
    return await accounts.create()


@pytest.fixture
async def bob(accounts: Accounts) -> Account:
    return await accounts.create()


@pytest.fixture
async def carol(accounts: Accounts) -> Account:
    return await accounts.create()


@pytest.fixture
async def moderator(accounts: Accounts) -> Account:
    return await accounts.create(role="moderator")


@pytest.fixture
async def admin(accounts: Accounts) -> Account:
    return await accounts.create(role="admin")


# --- the users service's events, as other services receive them --------------------------


def user_deleted(user_id: str) -> events_pb2.Event:
    """users.user.deleted of `user_id`, as DeleteUser records it."""
    deleted = users_events_pb2.UserDeleted(user_id=user_id, actor_id=user_id)
    return envelope("users.user.deleted", user_id, deleted, request_id="test")


def status_changed(user_id: str) -> events_pb2.Event:
    """users.user.status_changed of `user_id` (a ban), an event on the same family."""
    changed = users_events_pb2.UserStatusChanged(
        user_id=user_id, before=users_pb2.USER_STATUS_ACTIVE, after=users_pb2.USER_STATUS_BANNED
    )
    return envelope("users.user.status_changed", user_id, changed, request_id="test")

import time
import uuid

import jwt
import pytest

from shared.auth import Access, Principal, Role, TokenService, bearer_token
from shared.errors import Unauthenticated

SECRET = "s" * 40


def test_access_token_verifies_to_its_user_role_and_session() -> None:
    tokens = TokenService(SECRET, 60)
    user, session = uuid.uuid4(), uuid.uuid4()
    token, _ = tokens.issue_access(user, Role.MODERATOR, session)
    principal = tokens.verify(token)
    assert principal == Principal(str(user), Role.MODERATOR, str(session))


def test_service_token_carries_the_service_role() -> None:
    tokens = TokenService(SECRET, 60)
    assert tokens.verify(tokens.issue_service("content")).role is Role.SERVICE


def test_token_signed_with_another_secret_is_refused() -> None:
    token, _ = TokenService("x" * 40, 60).issue_access(uuid.uuid4(), Role.USER, uuid.uuid4())
    with pytest.raises(Unauthenticated):
        TokenService(SECRET, 60).verify(token)


def test_expired_token_is_refused() -> None:
    claims = {"iss": "daira", "sub": "u", "role": "user", "exp": int(time.time()) - 5}
    with pytest.raises(Unauthenticated) as caught:
        TokenService(SECRET, 60).verify(jwt.encode(claims, SECRET, algorithm="HS256"))
    assert caught.value.reason == "TOKEN_EXPIRED"


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenService("short", 60)


@pytest.mark.parametrize(
    ("access", "role", "admitted"),
    [
        (Access.USER, Role.USER, True),
        (Access.STAFF, Role.USER, False),
        (Access.STAFF, Role.MODERATOR, True),
        (Access.ADMIN, Role.MODERATOR, False),
        (Access.ADMIN, Role.ADMIN, True),
        (Access.SERVICE, Role.ADMIN, False),
        (Access.SERVICE, Role.SERVICE, True),
    ],
)
def test_access_levels_admit_exactly_their_roles(
    access: Access, role: Role, admitted: bool
) -> None:
    assert access.admits(role) is admitted


def test_only_admins_and_the_owner_own_an_account() -> None:
    user = uuid.uuid4()
    assert Principal(str(user), Role.USER, "s").owns(user)
    assert not Principal(str(uuid.uuid4()), Role.MODERATOR, "s").owns(user)
    assert Principal(str(uuid.uuid4()), Role.ADMIN, "s").owns(user)
    assert not Principal("service:content", Role.SERVICE).owns(user)
    assert Principal("service:content", Role.SERVICE).owns(user, services_too=True)


def test_bearer_token_is_read_from_metadata() -> None:
    assert bearer_token((("authorization", "Bearer abc"),)) == "abc"
    assert bearer_token((("authorization", "Basic abc"),)) is None
    assert bearer_token(()) is None

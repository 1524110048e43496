"""SearchUsers: trigram matching on username and display name, keyset pages."""

from __future__ import annotations

import asyncio
import random
import string

import grpc
import pytest

from daira.users.v1 import users_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def distinctive_word() -> str:
    """Letters no other test's user shares, so only this test's users match."""
    return "".join(random.choices(string.ascii_lowercase, k=10))


async def register_many(accounts, stub, display_names: list[str]) -> list[str]:
    requests = [accounts.new_registration(display_name=name) for name in display_names]
    responses = await asyncio.gather(*(stub.Register(r) for r in requests))
    return [r.user.id for r in responses]


def search(stub, auth, query: str, page_size: int = 0, page_token: str = ""):
    return stub.SearchUsers(
        users_pb2.SearchUsersRequest(query=query, page_size=page_size, page_token=page_token),
        metadata=auth,
    )


async def test_search_finds_a_user_by_username(alice, bob, stub):
    found = (await search(stub, bob.auth, alice.username)).users

    assert found[0].id == alice.id


async def test_search_finds_users_by_display_name(accounts, alice, stub):
    word = distinctive_word()
    ids = await register_many(accounts, stub, [f"{word} smith", f"{word} jones"])

    found = (await search(stub, alice.auth, word)).users

    assert {u.id for u in found} == set(ids)


async def test_search_tolerates_a_typo(accounts, alice, stub):
    word = distinctive_word()
    [wanted] = await register_many(accounts, stub, [word])
    typo = word[:4] + word[5:]

    found = (await search(stub, alice.auth, typo)).users

    assert wanted in [u.id for u in found]


async def test_search_puts_the_best_match_first(accounts, alice, stub):
    word = distinctive_word()
    [loose, exact] = await register_many(accounts, stub, [f"{word} junior", word])

    found = (await search(stub, alice.auth, word)).users

    assert [u.id for u in found] == [exact, loose]


async def test_search_hides_email_of_other_users(accounts, alice, stub):
    word = distinctive_word()
    await register_many(accounts, stub, [word])

    found = (await search(stub, alice.auth, word)).users

    assert [u.email for u in found] == [""]


async def test_search_pages_through_all_matches_without_repeats_or_gaps(accounts, alice, stub):
    word = distinctive_word()
    ids = await register_many(accounts, stub, [f"{word} {i}" for i in range(7)])

    pages: list[list[str]] = []
    token = ""
    while True:
        response = await search(stub, alice.auth, word, page_size=3, page_token=token)
        pages.append([u.id for u in response.users])
        token = response.next_page_token
        if not token:
            break
        assert len(pages) < 10, "paging does not end"

    assert [len(page) for page in pages] == [3, 3, 1]
    seen = [user_id for page in pages for user_id in page]
    assert sorted(seen) == sorted(ids)


async def test_search_page_size_defaults_to_20(accounts, alice, stub):
    word = distinctive_word()
    await register_many(accounts, stub, [f"{word} {i}" for i in range(21)])

    response = await search(stub, alice.auth, word)

    assert len(response.users) == 20
    assert response.next_page_token


async def test_search_rejects_a_page_token_reused_with_another_query(
    accounts, alice, stub, rejected
):
    word = distinctive_word()
    await register_many(accounts, stub, [f"{word} {i}" for i in range(3)])
    first = await search(stub, alice.auth, word, page_size=2)
    assert first.next_page_token

    failure = await rejected(
        search(stub, alice.auth, distinctive_word(), page_size=2, page_token=first.next_page_token)
    )

    assert failure.code == INVALID
    assert failure.fields == ["page_token"]


async def test_search_rejects_a_garbage_page_token(alice, stub, rejected):
    failure = await rejected(search(stub, alice.auth, "alice", page_token="%%garbage%%"))

    assert failure.code == INVALID
    assert failure.fields == ["page_token"]


@pytest.mark.parametrize("query", ["", "a"])
async def test_search_rejects_a_query_shorter_than_2_characters(alice, stub, rejected, query):
    failure = await rejected(search(stub, alice.auth, query))

    assert failure.code == INVALID
    assert failure.fields == ["query"]


async def test_search_rejects_a_negative_page_size(alice, stub, rejected):
    failure = await rejected(search(stub, alice.auth, "alice", page_size=-1))

    assert failure.code == INVALID
    assert failure.fields == ["page_size"]


async def test_search_does_not_find_deleted_users(accounts, alice, stub):
    word = distinctive_word()
    gone = await accounts.create(display_name=word)
    await stub.DeleteUser(users_pb2.DeleteUserRequest(id=gone.id), metadata=gone.auth)

    found = (await search(stub, alice.auth, word)).users

    assert gone.id not in [u.id for u in found]

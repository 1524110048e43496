"""Reading home feeds in the social tests: a reader's page, its post ids, and waiting for
the fan-out that follows a write."""

from __future__ import annotations

import asyncio
import time

from daira.content.v1 import content_pb2 as cpb

from .conftest import CELEBRITY_FOLLOWERS, follow


async def feed(content_stub, reader, page_size=20, page_token="") -> cpb.GetHomeFeedResponse:
    request = cpb.GetHomeFeedRequest(page_size=page_size, page_token=page_token)
    return await content_stub.GetHomeFeed(request, metadata=reader.auth)


async def feed_ids(content_stub, reader) -> list[str]:
    return [post.id for post in (await feed(content_stub, reader, page_size=100)).posts]


async def feed_once(content_stub, reader, expected: list[str], wait_seconds=10.0) -> list[str]:
    """The reader's feed once it is `expected` (fan-out follows the write shortly)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        found = await feed_ids(content_stub, reader)
        if found == expected or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.02)


async def celebrity_with_fans(stub, content_stub, accounts, celebrity):
    """Followers enough to make `celebrity` one, each with a built feed."""
    fans = [await accounts.create() for _ in range(CELEBRITY_FOLLOWERS + 1)]
    for fan in fans:
        await follow(stub, fan, celebrity)
        assert await feed_ids(content_stub, fan) == []
    return fans

"""Races: moderators claiming at once never share a subject; reporters reporting one post
at once make one subject with every report."""

from __future__ import annotations

import asyncio

import pytest

from daira.moderation.v1 import moderation_pb2 as pb
from shared.auth import Role

from .conftest import create_post, report, subject_of

MODERATORS = 20
REPORTERS = 100


@pytest.mark.usefixtures("empty_queue")
async def test_twenty_moderators_claiming_next_at_once_get_twenty_subjects(
    stub, content_stub, alice, mint
):
    for _ in range(MODERATORS):
        await report(stub, mint(), (await create_post(content_stub, alice)).id)
    moderators = [mint(Role.MODERATOR) for _ in range(MODERATORS)]

    replies = await asyncio.gather(
        *(stub.ClaimNextSubject(pb.ClaimNextSubjectRequest(), metadata=m.auth) for m in moderators)
    )

    claimed = {reply.subject.id for reply in replies}
    assert len(claimed) == MODERATORS
    assert {reply.subject.claimed_by for reply in replies} == {m.id for m in moderators}


async def test_a_hundred_reporters_at_once_make_one_subject_with_a_hundred_reports(
    stub, content_stub, alice, mint, moderator
):
    post = await create_post(content_stub, alice)
    reporters = [mint() for _ in range(REPORTERS)]

    filed = await asyncio.gather(*(report(stub, r, post.id) for r in reporters))

    subject_ids = {r.subject_id for r in filed}
    [subject_id] = subject_ids
    shown = await subject_of(stub, moderator, subject_id)
    assert len({r.id for r in filed}) == REPORTERS
    assert shown.subject.reporter_count == REPORTERS

"""The social service's scenarios.

Social: every call is the bench user's, over a graph of about 7,000,000 follows
(social_dataset). GetRelationships(100) samples 100 of the users it follows, its
followers and strangers; ListFollowers reads the first page of each of the 20 most
followed users, whom the bench user follows (as nearly everyone does), so visibility is
one follow probe and users is not asked, and a page 10,000 rows down five of them (its
token got by paging there); GetReactionCounts(100) samples hot and random
reacted-to targets; the notification reads are the bench user's (300 unread of 5,000).
The writes run last and send each request once: Follow follows a user the bench user
does not follow yet (so each call inserts a follow, moves both users' counts and
notifies, and social asks users whether the target exists and is locked: that call is
part of every real follow); React reacts, with the five kinds in turn, to a seeded post
it has not reacted to (so each call inserts a reaction, adds to a count and notifies the
author). Social asks content who wrote any target it is given, as the reacting user
(to check blocks, and that the user may see it), so there is no target kind that only
social serves; a post's author is content's cheapest answer (a GetPost of one field,
cached after the first read), and the commonest reaction, so posts it is, with content's
part (and what content asks in turn) in the db µs column. Social therefore always runs
with content, and the reactions it is seeded with are to content's posts and comments.
"""

from __future__ import annotations

from bench.scenarios.common import (
    HEALTH,
    PAGE_SIZE,
    Data,
    Scenario,
    _batches,
    _each,
    _health,
    _one,
    _single_use,
)
from bench.social_dataset_ids import SocialIds
from daira.social.v1 import social_pb2 as spb
from services.social import SPEC as SOCIAL

SOCIAL_API = f"/{SOCIAL.grpc_service}"
# Where ListFollowers' deep pages start, for this many of the hottest users.
DEEP_ROWS = 10_000
DEEP_USERS = 5
TARGET_KINDS = {"post": spb.TARGET_KIND_POST, "comment": spb.TARGET_KIND_COMMENT}
REACTION_KINDS = [
    spb.REACTION_KIND_LIKE, spb.REACTION_KIND_LOVE, spb.REACTION_KIND_LAUGH,
    spb.REACTION_KIND_SAD, spb.REACTION_KIND_ANGRY,
]  # fmt: skip


def _social(data: Data) -> SocialIds:
    assert data.social is not None, "social scenarios need the social dataset"
    return data.social


SCENARIOS = [
    Scenario(
        "social-floor",
        "Health/Check (social floor)",
        HEALTH,
        _health(SOCIAL.grpc_service),
        service="social",
    ),
    Scenario(
        "relationships",
        "GetRelationships(100)",
        f"{SOCIAL_API}/GetRelationships",
        _batches(
            lambda d: _social(d).others, lambda ids: spb.GetRelationshipsRequest(user_ids=ids)
        ),
        service="social",
    ),
    Scenario(
        "followers",
        "ListFollowers(20), hottest",
        f"{SOCIAL_API}/ListFollowers",
        _each(
            lambda d: _social(d).hottest,
            lambda u: spb.ListFollowersRequest(user_id=u, page_size=PAGE_SIZE),
        ),
        service="social",
    ),
    Scenario(
        "followers-deep",
        f"ListFollowers(20) @{DEEP_ROWS:,}",
        f"{SOCIAL_API}/ListFollowers",
        _each(
            lambda d: list(d.deep),
            lambda deep: spb.ListFollowersRequest(
                user_id=deep[0], page_size=PAGE_SIZE, page_token=deep[1]
            ),
        ),
        service="social",
    ),
    Scenario(
        "reaction-counts",
        "GetReactionCounts(100)",
        f"{SOCIAL_API}/GetReactionCounts",
        _batches(
            lambda d: _social(d).targets,
            lambda targets: spb.GetReactionCountsRequest(
                targets=[spb.Target(kind=TARGET_KINDS[k], id=i) for k, i in targets]
            ),
        ),
        service="social",
    ),
    Scenario(
        "unread",
        "CountUnreadNotifications",
        f"{SOCIAL_API}/CountUnreadNotifications",
        _one(spb.CountUnreadNotificationsRequest()),
        service="social",
    ),
    Scenario(
        "notifications",
        "ListNotifications(20)",
        f"{SOCIAL_API}/ListNotifications",
        _one(spb.ListNotificationsRequest(page_size=PAGE_SIZE)),
        service="social",
    ),
    Scenario(
        "follow",
        "Follow",
        f"{SOCIAL_API}/Follow",
        _single_use(lambda d: _social(d).strangers, lambda u: spb.FollowRequest(user_id=u)),
        service="social",
        once=True,
    ),
    Scenario(
        "react",
        "React (posts)",
        f"{SOCIAL_API}/React",
        _single_use(
            lambda d: list(enumerate(_social(d).posts)),
            lambda item: spb.ReactRequest(
                target=spb.Target(kind=spb.TARGET_KIND_POST, id=item[1]),
                kind=REACTION_KINDS[item[0] % len(REACTION_KINDS)],
            ),
        ),
        service="social",
        once=True,
    ),
]

"""Deleting a user leaves no row of theirs readable through any RPC of any service.

A user with posts, comments, a video, mentions by others, reactions, follows both ways,
a block, a mute, notifications, a funded wallet and tips to and from others, reports
filed by them and about them and their post, and an appealed decision about them deletes
their account through users.DeleteUser; once every service has handled
users.user.deleted, no read of users, content, social, payments or moderation shows
anything of theirs, by them (their access token still verifies until it expires), by the
others or by staff; the others' counters and balances are exact and the ledger still
balances."""

from __future__ import annotations

import grpc

from daira.content.v1 import content_pb2 as content
from daira.moderation.v1 import moderation_pb2 as moderation
from daira.payments.v1 import payments_pb2 as payments
from daira.social.v1 import social_pb2 as social
from daira.users.v1 import users_pb2 as users
from tests import harness
from tests.content.conftest import (
    create_comment,
    create_post,
    create_video,
    get_post,
    hashtag_post_ids,
    trending_ids,
    unique_tag,
    user_post_ids,
)
from tests.moderation.conftest import decide, my_reports, report
from tests.payments.conftest import available, fund, ledger_sums, tip, wallet
from tests.social.conftest import (
    follow,
    listed,
    notified,
    post_target,
    react,
    reaction_counts,
    relationship,
    stats,
)


async def missing(call) -> bool:
    try:
        await call
    except grpc.aio.AioRpcError as err:
        return err.code() == grpc.StatusCode.NOT_FOUND
    return False


async def test_a_deleted_user_leaves_nothing_readable_anywhere(platform, accounts):
    gone, bob, carol, blocked, muter = [await accounts.create() for _ in range(5)]
    admin = await accounts.create(role="admin")
    moderator = await accounts.create(role="moderator")
    c, s, p, m = platform.content, platform.social, platform.payments, platform.moderation

    tag = unique_tag()
    own = await create_post(c, gone, f"mine #{tag}")
    theirs = await create_post(c, bob)
    remark = await create_comment(c, gone, theirs.id)
    await create_comment(c, bob, theirs.id, parent_id=remark.id)
    kept = await create_comment(c, carol, theirs.id)
    await create_comment(c, bob, own.id)
    video = await create_video(c, gone)
    mentioning = await create_post(c, bob, f"hello @{gone.username}")
    target = post_target(theirs.id)
    await react(s, gone, target)
    await react(s, carol, target, social.REACTION_KIND_LOVE)
    await react(s, bob, post_target(own.id))
    for who, whom in ((gone, bob), (bob, gone), (carol, gone), (carol, bob)):
        await follow(s, who, whom)
    await s.Block(social.BlockRequest(user_id=blocked.id), metadata=gone.auth)
    await s.Mute(social.MuteRequest(user_id=gone.id), metadata=muter.auth)
    await fund(p, platform.sandbox, gone, 1_000)
    await fund(p, platform.sandbox, bob, 500)
    sent = await tip(p, gone, bob, 200, note="thanks")  # fee 5%: bob gets 190
    received = await tip(p, bob, gone, 100)
    assert (await get_post(c, bob, theirs.id)).comments_count == 3
    by_gone = await report(m, gone, theirs.id, comment="mine was copied")
    on_post = await report(m, bob, own.id)
    on_gone = await report(m, carol, gone.id, kind=moderation.SUBJECT_KIND_USER)
    await report(m, carol, theirs.id)
    made = await decide(m, moderator, on_gone.subject_id, moderation.DECISION_ACTION_WARN)
    appeal = moderation.FileAppealRequest(decision_id=made.id, statement="I was not rude")
    await m.FileAppeal(appeal, metadata=gone.auth)

    await platform.users.DeleteUser(users.DeleteUserRequest(id=gone.id), metadata=gone.auth)

    # Each service handles the event on its own: wait for a sign of each.
    assert await harness.settled(lambda: stats(s, bob, bob), (1, 0, 0)) == (1, 0, 0)
    assert await harness.settled(lambda: user_post_ids(c, admin, gone.id), []) == []
    empty = payments.Wallet(user_id=gone.id, currency_code="USD")
    assert await harness.settled(lambda: wallet(p, gone), empty) == empty
    assert await harness.settled(lambda: comments_count(c, bob, theirs.id), 1) == 1
    assert await harness.settled(lambda: my_reports(m, gone), []) == []

    # users
    for caller in (bob, admin):
        assert await missing(
            platform.users.GetUser(users.GetUserRequest(id=gone.id), metadata=caller.auth)
        )
    found = await platform.users.SearchUsers(
        users.SearchUsersRequest(query=gone.username), metadata=bob.auth
    )
    assert [u.id for u in found.users] == []

    # content
    for caller in (gone, bob, admin):
        assert await missing(c.GetPost(content.GetPostRequest(id=own.id), metadata=caller.auth))
        batch = await c.BatchGetPosts(
            content.BatchGetPostsRequest(ids=[own.id]), metadata=caller.auth
        )
        assert list(batch.posts) == []
        assert await user_post_ids(c, caller, gone.id) == []
        assert await missing(
            c.GetComment(content.GetCommentRequest(id=remark.id), metadata=caller.auth)
        )
        assert await missing(c.GetVideo(content.GetVideoRequest(id=video.id), metadata=caller.auth))
        videos = await c.ListUserVideos(
            content.ListUserVideosRequest(user_id=gone.id), metadata=caller.auth
        )
        assert list(videos.videos) == []
        listing = await c.ListComments(
            content.ListCommentsRequest(post_id=theirs.id), metadata=caller.auth
        )
        assert [(x.id, x.author_id) for x in listing.comments] == [(kept.id, carol.id)]
    assert await hashtag_post_ids(c, bob, tag) == []
    assert list((await get_post(c, bob, mentioning.id)).mentions) == []
    assert own.id not in await trending_ids(c, bob)
    feed = await c.GetHomeFeed(content.GetHomeFeedRequest(page_size=100), metadata=bob.auth)
    assert gone.id not in {post.author_id for post in feed.posts}

    # social
    assert await stats(s, bob, gone) == (0, 0, 0)
    assert await stats(s, bob, carol) == (0, 1, 0)
    for lister, request, field in (
        (s.ListFollowers, social.ListFollowersRequest(user_id=bob.id), "followers"),
        (s.ListFollowing, social.ListFollowingRequest(user_id=carol.id), "following"),
    ):
        assert await listed(lister, request, bob, field) == [
            bob.id if field == "following" else carol.id
        ]
    assert (
        await listed(s.ListFriends, social.ListFriendsRequest(user_id=bob.id), bob, "friends") == []
    )
    for lister, request, field in (
        (s.ListFollowers, social.ListFollowersRequest(user_id=gone.id), "followers"),
        (s.ListFollowing, social.ListFollowingRequest(user_id=gone.id), "following"),
        (s.ListFriends, social.ListFriendsRequest(user_id=gone.id), "friends"),
        (s.ListFollowRequests, social.ListFollowRequestsRequest(), "requests"),
        (s.ListBlocks, social.ListBlocksRequest(), "blocks"),
    ):
        assert await listed(lister, request, gone, field) == []
    assert (await s.ListMutes(social.ListMutesRequest(), metadata=gone.auth)).mutes == []
    assert (await s.ListMutes(social.ListMutesRequest(), metadata=muter.auth)).mutes == []
    for other in (bob, carol, blocked):
        seen = await relationship(s, other, gone)
        assert not any(
            (seen.following, seen.followed_by, seen.friends, seen.blocking, seen.blocked_by)
        )
    assert await reaction_counts(s, bob, target) == {"LOVE": 1}
    reactions = await s.ListReactions(social.ListReactionsRequest(target=target), metadata=bob.auth)
    assert [r.user_id for r in reactions.reactions] == [carol.id]
    assert gone.id not in {actor for _, actor in await notified(s, bob)}
    assert await notified(s, gone) == []

    # payments
    assert await wallet(p, gone) == empty
    for caller, user_id in ((gone, ""), (admin, gone.id)):
        history = await p.ListTransactions(
            payments.ListTransactionsRequest(user_id=user_id), metadata=caller.auth
        )
        assert list(history.transactions) == []
        earnings = await p.GetEarnings(
            payments.GetEarningsRequest(user_id=user_id), metadata=caller.auth
        )
        assert list(earnings.earnings) == []
    assert await missing(
        p.GetTransaction(payments.GetTransactionRequest(id=sent.id), metadata=gone.auth)
    )
    for transfer in (sent, received):
        shown = await p.GetTransaction(
            payments.GetTransactionRequest(id=transfer.id), metadata=bob.auth
        )
        assert gone.id not in (shown.transaction.payer_id, shown.transaction.payee_id)
    assert await available(p, bob) == 500 + 190 - 100
    assert await ledger_sums(platform.ledger) == []

    # moderation
    assert await my_reports(m, gone) == []
    shown = await m.GetSubject(
        moderation.GetSubjectRequest(subject_id=by_gone.subject_id), metadata=moderator.auth
    )
    assert shown.subject.reporter_count == 2
    assert gone.id not in {r.reporter_id for r in shown.reports}
    assert "mine was copied" not in {r.comment for r in shown.reports}
    for filed in (on_post, on_gone):
        about = await m.GetSubject(
            moderation.GetSubjectRequest(subject_id=filed.subject_id), metadata=moderator.auth
        )
        assert about.subject.state == moderation.QUEUE_STATE_CLOSED
        assert gone.id not in (about.subject.owner_id, about.subject.target_id)
    queue = await m.ListQueue(moderation.ListQueueRequest(), metadata=moderator.auth)
    assert gone.id not in {x.owner_id for x in queue.subjects}
    assert gone.id not in {
        r.target_id for r in await my_reports(m, bob) + await my_reports(m, carol)
    }
    decision = moderation.GetDecisionRequest(decision_id=made.id)
    assert (await m.GetDecision(decision, metadata=moderator.auth)).decision.owner_id != gone.id
    assert await missing(m.GetDecision(decision, metadata=gone.auth))
    mine = await m.ListMyDecisions(moderation.ListMyDecisionsRequest(), metadata=gone.auth)
    assert list(mine.decisions) == []
    for caller in (gone, admin):
        appeals = await m.ListAppeals(moderation.ListAppealsRequest(), metadata=caller.auth)
        assert gone.id not in {a.appellant_id for a in appeals.appeals}


async def comments_count(stub, caller, post_id: str) -> int:
    return (await get_post(stub, caller, post_id)).comments_count

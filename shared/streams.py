"""The families of domain events: which service records each, and so which stream a
consumer reads. Part of the contract between services, like the payload messages in
protos/daira/<service>/v1/<service>_events.proto."""

from __future__ import annotations

# users.user.deleted, users.user.status_changed (daira.users.v1 UserDeleted, UserStatusChanged)
USERS_ACCOUNTS = "users.accounts"
# content.post.created, .removed, .restored (daira.content.v1 PostCreated, PostRemoved, …)
CONTENT_POSTS = "content.posts"
# content.comment.created (daira.content.v1 CommentCreated)
CONTENT_COMMENTS = "content.comments"
# social.follow.started, .ended (daira.social.v1 FollowStarted, FollowEnded)
SOCIAL_FOLLOWS = "social.follows"
# social.reaction.changed (daira.social.v1 ReactionChanged)
SOCIAL_REACTIONS = "social.reactions"
# payments.tip.refunded (daira.payments.v1 TipRefunded)
PAYMENTS_TRANSFERS = "payments.transfers"

"""Who may see a post, and so its comments: one rule for the content service, which shows
posts, and the social service, which takes reactions only to what their reactor may see."""

from __future__ import annotations

import enum
import uuid

from daira.content.v1 import content_pb2 as pb
from shared.auth import Principal, Role

# The rule's names of a post's visibility and moderation state, and their values on the
# wire (daira.content.v1), both ways.
VISIBILITIES = {
    "public": pb.VISIBILITY_PUBLIC,
    "followers": pb.VISIBILITY_FOLLOWERS,
    "private": pb.VISIBILITY_PRIVATE,
}
VISIBILITY_NAMES = {number: name for name, number in VISIBILITIES.items()}
MODERATION = {
    "visible": pb.MODERATION_STATE_VISIBLE,
    "hidden": pb.MODERATION_STATE_HIDDEN,
    "removed": pb.MODERATION_STATE_REMOVED,
}
MODERATION_NAMES = {number: name for name, number in MODERATION.items()}


class Relation(enum.Enum):
    """What an author is to a viewer, as far as the asking service can tell."""

    UNKNOWN = "unknown"  # social could not be asked
    NONE = "none"  # the viewer does not follow the author, who does not block them
    FOLLOWER = "follower"
    BLOCKED = "blocked"  # the author blocks the viewer


def privileged(principal: Principal) -> bool:
    """Staff and services see and act on everyone's content, moderated content included."""
    return principal.is_staff or principal.role is Role.SERVICE


def is_self(principal: Principal, user_id: uuid.UUID | str) -> bool:
    return principal.role is not Role.SERVICE and principal.subject == str(user_id)


# What each kind of viewer sees, made once: `sees` asks for every post of a batch.
_EVERYTHING = ("public", "followers", "private")
_FOLLOWERS_TOO = ("public", "followers")
_PUBLIC = ("public",)


def visibilities(
    principal: Principal, author_id: uuid.UUID | str, relation: Relation
) -> tuple[str, ...]:
    """Which of an author's posts the caller may see.

    Social being unreachable (UNKNOWN) shows only public posts, as to a viewer who does
    not follow the author (NONE), except to the author and staff, rather than failing
    the read.
    """
    if privileged(principal) or is_self(principal, author_id):
        return _EVERYTHING
    if relation is Relation.BLOCKED:
        return ()
    if relation is Relation.FOLLOWER:
        return _FOLLOWERS_TOO
    return _PUBLIC


def sees(
    principal: Principal,
    author_id: uuid.UUID | str,
    visibility: str,
    moderation: str,
    relation: Relation,
) -> bool:
    """Whether the caller may see one post (or comment: visibility "public")."""
    if moderation != "visible" and not privileged(principal):
        return False
    return visibility in visibilities(principal, author_id, relation)

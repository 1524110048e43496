"""Demo data for `make run`: posts with hashtags and mentions, threads, videos in each state.

Authors are the users service's demo accounts, whose ids only the users service knows:
the seed asks it (LookupUsers, with a service token) and writes through the service's
own logic, so hashtags, mentions, counters and quota go exactly as in production. When
users cannot be reached, it says so and changes nothing. Idempotent: every write
carries a fixed request id, so a second run finds everything in place.
"""

from __future__ import annotations

import asyncio
import uuid

from daira.content.v1 import content_pb2 as pb
from services.content import SPEC
from services.content.comments import Comments
from services.content.deps import Deps
from services.content.media import Media
from services.content.posts import Posts
from services.content.settings import ContentSettings
from services.content.videos import Videos
from shared.auth import Principal, Role
from shared.config import load_settings
from shared.server import build_runtime

PUBLIC, FOLLOWERS, PRIVATE = pb.VISIBILITY_PUBLIC, pb.VISIBILITY_FOLLOWERS, pb.VISIBILITY_PRIVATE

# (author, text, visibility)
DEMO_POSTS = [
    ("demo01", "First light over the harbour #photography #goldenhour", PUBLIC),
    ("demo02", "Sunday ride: 80 km and one flat tyre #cycling @demo05 you were right", PUBLIC),
    ("demo03", "Slow-cooked lentils, lemon and cumin #cooking #vegetarian", PUBLIC),
    ("demo04", "Coltrane on vinyl tonight #jazz @demo01 come over", PUBLIC),
    ("demo05", "Caught a Sicilian I had never seen #chess", PUBLIC),
    ("demo06", "Summit at dawn, worth every step #hiking #photography", PUBLIC),
    ("demo07", "A haiku draft for friends only #poetry", FOLLOWERS),
    ("demo08", "Line-following robot finally follows the line #robotics @demo02", PUBLIC),
    ("demo09", "Notes to self: buy more film", PRIVATE),
    ("demo10", "Which #jazz record should everyone hear once? @demo04 @demo11", PUBLIC),
]
# (post index, author, text, index of the comment replied to or None)
DEMO_COMMENTS = [
    (0, "demo02", "Stunning colours!", None),
    (0, "demo01", "Thanks! Shot at 6:12.", 0),
    (0, "demo03", "Which lens?", None),
    (1, "demo05", "Told you about the tyres.", None),
    (1, "demo02", "Next time, tubeless.", 3),
    (3, "demo10", "A Love Supreme, every time.", None),
    (7, "demo02", "Ship it!", None),
    (9, "demo04", "Kind of Blue, obviously.", None),
    (9, "demo11", "Mingus Ah Um.", 7),
]
# (author, title, description, state to reach)
DEMO_VIDEOS = [
    ("demo01", "Harbour timelapse", "Sunrise in four minutes.", "published"),
    ("demo06", "Ridge walk", "The last kilometre.", "published"),
    ("demo08", "Robot demo", "Still rendering.", "processing"),
    ("demo03", "Lentil stew", "Upload in progress.", "uploading"),
    ("demo05", "Blitz game", "The codec did not like it.", "failed"),
]
DEMO_MEDIA = (0, "https://cdn.daira.dev/demo/harbour.jpg", "image/jpeg", 245_760, 1600, 1067)


def _as(user_id: uuid.UUID) -> Principal:
    return Principal(subject=str(user_id), role=Role.USER, session_id="seed")


async def seed(settings: ContentSettings) -> str:
    """Write the demo content that is missing; a one-line summary of what happened."""
    runtime = build_runtime(SPEC, settings)
    deps = Deps.from_runtime(runtime)
    try:
        names = sorted({row[0] for row in DEMO_POSTS + DEMO_VIDEOS} | {c[1] for c in DEMO_COMMENTS})
        users = await deps.peers.resolve_mentions(names)
        if not users:
            return "users service not reachable: demo content skipped (run the seed again later)"
        media = Media(deps)
        posts = Posts(deps, media)
        comments, videos = Comments(deps, posts), Videos(deps)
        made = []
        for n, (author, text, visibility) in enumerate(DEMO_POSTS):
            made.append(await posts.create(_as(users[author]), text, visibility, f"seed-post-{n}"))
        replies: list[pb.Comment] = []
        for n, (index, author, text, parent) in enumerate(DEMO_COMMENTS):
            parent_id = uuid.UUID(replies[parent].id) if parent is not None else None
            post_id = uuid.UUID(made[index].id)
            comment = await comments.create(
                _as(users[author]), post_id, text, parent_id, f"seed-comment-{n}"
            )
            replies.append(comment)
        index, url, mime_type, size, width, height = DEMO_MEDIA
        request = pb.AddPostMediaRequest(
            url=url, mime_type=mime_type, size_bytes=size, width=width, height=height,
            request_id="seed-media-0",
        )  # fmt: skip
        await media.add(_as(users[DEMO_POSTS[index][0]]), uuid.UUID(made[index].id), request)
        for n, (author, title, description, target) in enumerate(DEMO_VIDEOS):
            video = await videos.create(_as(users[author]), title, description, f"seed-video-{n}")
            await _advance(videos, video, target)
        return f"{len(made)} posts, {len(replies)} comments, {len(DEMO_VIDEOS)} videos in place"
    finally:
        await deps.peers.close()
        await runtime.db.dispose()
        await runtime.redis.aclose()


async def _advance(videos: Videos, video: pb.Video, target: str) -> None:
    """Walk a demo video to its state, from wherever an earlier run left it."""
    video_id = uuid.UUID(video.id)
    if video.state == pb.VIDEO_STATE_UPLOADING and target != "uploading":
        video = await videos.mark_uploaded(video_id)
    if video.state != pb.VIDEO_STATE_PROCESSING:
        return
    if target == "published":
        done = pb.CompleteVideoProcessingRequest(
            hls_url=f"https://cdn.daira.dev/demo/{video_id}/master.m3u8",
            thumbnail_url=f"https://cdn.daira.dev/demo/{video_id}/thumb.jpg",
            resolution="1920x1080",
        )
        done.duration.seconds = 240
        await videos.complete(video_id, done)
    elif target == "failed":
        await videos.fail(video_id, "unsupported codec")


if __name__ == "__main__":
    summary = asyncio.run(seed(load_settings(ContentSettings, SPEC.name)))
    print(f"content: {summary}")

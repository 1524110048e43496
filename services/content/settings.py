"""Settings of the content service (environment prefix DAIRA_CONTENT_)."""

from shared.config import ServiceSettings


class ContentSettings(ServiceSettings):
    # Media left PENDING this long (a crash between the row and its storage reservation)
    # is rolled back by the reconciler. Longer than any ReserveStorage call may take.
    media_pending_timeout_seconds: float = 60.0
    # How often the reconciler looks for such media and for releases still owed.
    media_reconcile_interval_seconds: float = 30.0
    # Striped view counters per video: concurrent views spread over this many rows.
    video_view_slots: int = 16
    # How long social's answers (relations, reaction counts) and users' (a feed's authors)
    # are reused by content's reads as they are, so a hot post is not a call to social per
    # read (0 asks every time); and how long they are kept, read past that first time and
    # asked for again behind the read, so no read waits for an answer it has had lately.
    social_answers_seconds: int = 5
    social_answers_kept_seconds: int = 60
    # Home feeds: entries kept per user; authors with more followers than this are not
    # fanned out (their posts are merged in at read time); a feed unread this long expires.
    feed_size: int = 800
    feed_celebrity_followers: int = 20_000
    feed_idle_seconds: int = 7 * 86400

"""The comment calls several comment test modules make: deleting one, and every id of a
thread's listing, page after page."""

from __future__ import annotations

from daira.content.v1 import content_pb2

from .conftest import every_page


def delete(stub, account, comment_id: str):
    request = content_pb2.DeleteCommentRequest(id=comment_id)
    return stub.DeleteComment(request, metadata=account.auth)


async def listed(stub, account, post_id: str, parent_id: str = "", page_size: int = 100):
    request = content_pb2.ListCommentsRequest(
        post_id=post_id, parent_id=parent_id, page_size=page_size
    )
    pages = await every_page(stub.ListComments, request, account.auth, "comments")
    return [comment.id for page in pages for comment in page]

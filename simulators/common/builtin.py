"""Handlers of the operations every system shares: the event feed and the token endpoint."""

from __future__ import annotations

from simulators.common.api import Operations, Reply, Request
from simulators.common.security import ISSUED_TOKEN_TTL_S

operations = Operations()


@operations("listEvents")
def list_events(request: Request) -> Reply:
    """Return the events after the cursor."""
    after = int(request.query.get("after", "0") or 0)
    prefixes = request.query.get("type")
    items, cursor = request.context.feed.read(after, int(request.query.get("limit", 100)),
                                              tuple(prefixes) if prefixes else None)
    return Reply(200, {"items": items, "next_cursor": str(cursor)})


@operations("issueToken")
def issue_token(request: Request) -> Reply:
    """Exchange client credentials for a bearer token."""
    grant = request.context.tokens.issue(request.body["client_id"], request.body["client_secret"], request.now)
    return Reply(200, {"access_token": grant.token, "token_type": "Bearer", "expires_in": ISSUED_TOKEN_TTL_S},
                 {"Cache-Control": "no-store"})

"""Mechanics shared by the four mocks: spec routing and validation, errors, idempotency, ETags,
pagination, auth, rate limits, the event feed, webhooks, the fault plane and the admin API."""

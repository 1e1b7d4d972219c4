"""Intake: the feed poller and the webhook receiver."""

from syncengine.intake.feed import EventSink, FeedPoller, PollResult
from syncengine.intake.webhooks import SignatureError, SignatureVerifier, WebhookReceiver, signature

__all__ = ["EventSink", "FeedPoller", "PollResult", "SignatureError", "SignatureVerifier", "WebhookReceiver",
           "signature"]

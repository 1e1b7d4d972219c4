"""The engine's domain: messages, failure kinds, money and ordering keys. Imports no I/O library."""

from syncengine.domain.errors import (
    BusinessException,
    ConflictFailure,
    EngineError,
    MalformedEvent,
    PermanentFailure,
    PoisonMessage,
    TransientFailure,
)
from syncengine.domain.messages import Command, Event, SourceEvent, format_instant, parse_instant
from syncengine.domain.money import format_amount, parse_amount, quantize
from syncengine.domain.ordering import KeyFunction, by_field, by_subject

__all__ = [
    "BusinessException",
    "Command",
    "ConflictFailure",
    "EngineError",
    "Event",
    "KeyFunction",
    "MalformedEvent",
    "PermanentFailure",
    "PoisonMessage",
    "SourceEvent",
    "TransientFailure",
    "by_field",
    "by_subject",
    "format_amount",
    "format_instant",
    "parse_amount",
    "parse_instant",
    "quantize",
]

"""The message bus between the engine's intake and its workers: in-process, or RabbitMQ."""

from syncengine.adapters.bus.port import AbstractBus, Ack, BusError, Consumer, OnMessage, Publisher, partition_of

__all__ = ["AbstractBus", "Ack", "BusError", "Consumer", "OnMessage", "Publisher", "partition_of"]

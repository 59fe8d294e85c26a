"""The link to the cloud, behind one interface: Greengrass IPC or plain MQTT (awscrt)."""

from meter_gateway.transport.base import CloudTransport, DeltaHandler, shadow_topic

__all__ = ["CloudTransport", "DeltaHandler", "shadow_topic"]

"""Exception classes of the meter gateway, one per failure mode."""


class GatewayError(Exception):
    """Base of every gateway failure."""


# --- cloud side: configuration, spool, transports, shadows (owner: "cloud") ---


class ConfigError(GatewayError):
    """The gateway configuration is missing, unreadable or invalid; the message names the field."""


class SpoolError(GatewayError):
    """The on-disk spool could not be opened, written or read."""


class SpoolCorruptError(SpoolError):
    """The spool database exists but is not a spool this code can use."""


class TelemetryTooLargeError(GatewayError):
    """An encoded telemetry message exceeds the size limit of one MQTT payload."""


class TransportError(GatewayError):
    """Base of failures talking to the cloud (IPC or MQTT)."""


class TransportUnavailableError(TransportError):
    """The link to the cloud is down; the operation was not attempted."""


class PublishTimeoutError(TransportError):
    """A QoS 1 publish was not acknowledged in time (it may still arrive: at-least-once)."""


class PublishFailedError(TransportError):
    """The broker or the IPC service refused or failed a publish."""


class ShadowRequestTimeoutError(TransportError):
    """A shadow get/update got no accepted/rejected answer in time."""


class ShadowRejectedError(TransportError):
    """The shadow service rejected a get/update (the code and message are in the text)."""


class ShadowDocumentError(GatewayError):
    """A shadow document or delta does not match the meter shadow contract."""


class StateStoreError(GatewayError):
    """The persisted desired/reported relay state could not be read or written."""


# --- Modbus side: profiles, read plans, decoding, the bus, the simulator ---


class ProfileError(GatewayError):
    """A meter profile file is invalid; the message names the file and the field."""


class ProfileNotFoundError(ProfileError):
    """No profile file exists for the requested profile name."""


class ExpressionError(ProfileError):
    """A profile expression is malformed, uses something not allowed, or cannot be evaluated."""


class ReadPlanError(GatewayError):
    """A read plan cannot be built for a profile (a register lies outside every span)."""


class DecodeError(GatewayError):
    """Registers returned by a meter do not fit the block they answer."""


class BusError(GatewayError):
    """Base of failures talking to a device on the Modbus bus."""


class BusConnectError(BusError):
    """The serial port or TCP link could not be opened."""


class ModbusTimeoutError(BusError):
    """A device did not answer within its time-out."""


class ModbusFrameError(BusError):
    """Bytes arrived but did not form a valid frame (CRC or framing error)."""


class ModbusExceptionResponseError(BusError):
    """A device answered with a Modbus exception code."""

    def __init__(self, message: str, exception_code: int) -> None:
        super().__init__(message)
        self.exception_code = exception_code


class RelayRefusedError(BusError):
    """The device answered a relay write with an exception: it refuses it (wrong key, count,
    or function code), so sending the same write again would be refused again."""


class RelayNotSupportedError(BusError):
    """A relay operation was asked of a meter whose profile has no relay control."""


class SimulatorError(GatewayError):
    """The meter simulator was given an invalid meter specification."""

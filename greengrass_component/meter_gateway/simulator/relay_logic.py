"""How a simulated device judges a write: exactly as its profile's relay steps say.

A write is accepted only if it is the next step of a channel's turn-on or turn-off
sequence, with the step's function code, register count and values (keys computed from
the device's own registers, as the real meter checks them). Anything else is refused with
the profile's exception codes, so a profile the hardware would refuse fails in tests too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from meter_gateway.errors import ExpressionError
from meter_gateway.expressions import evaluate
from meter_gateway.profile_model import MeterProfile, WriteStep

__all__ = ["RelaySequencer", "WriteVerdict"]


@dataclass(frozen=True)
class WriteVerdict:
    exception: int | None  # None: accepted
    switched: tuple[int, bool] | None = None  # (channel, on) once a sequence completes


@dataclass
class RelaySequencer:
    profile: MeterProfile
    # channel -> {(turning on?, index of the last accepted step)} of sequences under way;
    # a set, because turn-on and turn-off often share their first step (the unlock key).
    progress: dict[int, set[tuple[bool, int]]] = field(default_factory=dict)

    def _candidates(self, address: int) -> list[tuple[int, bool, int, WriteStep]]:
        relay = self.profile.relay
        assert relay is not None
        found = []
        for channel in range(relay.channels):
            for on in (True, False):
                for index, step in enumerate(relay.steps(on)):
                    if step.address + channel * relay.channel_stride == address:
                        found.append((channel, on, index, step))
        return found

    def judge(
        self,
        function_code: int,
        address: int,
        values: list[int],
        variables: Mapping[str, Decimal],
    ) -> WriteVerdict:
        relay = self.profile.relay
        if relay is None:
            return WriteVerdict(self.profile.exceptions.illegal_address)
        candidates = self._candidates(address)
        if not candidates:
            return WriteVerdict(self.profile.exceptions.illegal_address)
        refused = WriteVerdict(relay.refused_exception)
        accepted: dict[int, set[tuple[bool, int]]] = {}
        for channel, on, index, step in candidates:
            if step.function_code != function_code or len(step.values) != len(values):
                continue
            if index > 0 and (on, index - 1) not in self.progress.get(channel, set()):
                continue  # a later step without the ones before it
            try:
                expected = [
                    int(evaluate(v, {**variables, "channel": Decimal(channel)}))
                    for v in step.values
                ]
            except ExpressionError:
                return refused
            if [int(v) for v in values] != expected:
                continue  # wrong key or wrong command value
            if index == len(relay.steps(on)) - 1:
                self.progress.pop(channel, None)
                return WriteVerdict(None, (channel, on))
            accepted.setdefault(channel, set()).add((on, index))
        if accepted:
            self.progress.update(accepted)
            return WriteVerdict(None)
        for channel, *_ in candidates:
            self.progress.pop(channel, None)  # a refused write breaks a sequence under way
        return refused

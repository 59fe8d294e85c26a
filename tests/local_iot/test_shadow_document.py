"""Shadow semantics of the local store, per the AWS Device Shadow documentation."""

from __future__ import annotations

import json

import pytest

from local_iot.errors import ShadowRequestError
from local_iot.shadow_document import ShadowStore

KEY = ("gw-1", "meter-m1")


def update(store: ShadowStore, document: dict, now_s: int = 100):
    return store.update(KEY, json.dumps(document).encode(), now_s)


def test_desired_that_differs_from_reported_gives_a_delta_and_documents() -> None:
    # GIVEN a shadow the device has reported
    store = ShadowStore()
    first = update(store, {"state": {"reported": {"power": "on", "at": 1}}}, now_s=100)
    assert first.delta is None and first.documents["previous"] is None
    # WHEN the cloud asks for power off
    out = update(store, {"state": {"desired": {"power": "off"}}, "clientToken": "c1"}, now_s=200)
    # THEN the version grows, the token is echoed, and the delta holds only what differs
    assert out.accepted == {
        "state": {"desired": {"power": "off"}},
        "metadata": {"desired": {"power": {"timestamp": 200}}},
        "version": 2,
        "timestamp": 200,
        "clientToken": "c1",
    }
    assert out.delta == {
        "version": 2,
        "timestamp": 200,
        "state": {"power": "off"},
        "metadata": {"power": {"timestamp": 200}},
        "clientToken": "c1",
    }
    assert out.documents["previous"]["version"] == 1
    assert out.documents["current"]["state"] == {
        "reported": {"power": "on", "at": 1},
        "desired": {"power": "off"},
    }
    assert out.documents["current"]["metadata"]["reported"]["power"] == {"timestamp": 100}


def test_reporting_the_desired_value_clears_the_delta() -> None:
    store = ShadowStore()
    update(store, {"state": {"desired": {"power": "off", "cutoff": {"kwh": "1.000"}}}})
    out = update(store, {"state": {"reported": {"power": "off", "cutoff": {"kwh": "1.000"}}}})
    assert out.delta is None
    assert "delta" not in store.get(KEY, 300)["state"]


def test_nested_delta_keeps_only_differing_leaves() -> None:
    store = ShadowStore()
    update(store, {"state": {"reported": {"c": {"kwh": "1.000", "tz": "UTC"}}}})
    out = update(store, {"state": {"desired": {"c": {"kwh": "2.000", "tz": "UTC"}}}})
    assert out.delta is not None and out.delta["state"] == {"c": {"kwh": "2.000"}}


def test_null_deletes_a_key_and_a_whole_section() -> None:
    store = ShadowStore()
    update(store, {"state": {"desired": {"a": 1, "b": 2}, "reported": {"a": 1}}})
    update(store, {"state": {"desired": {"b": None}}})
    assert store.get(KEY, 1)["state"] == {"desired": {"a": 1}, "reported": {"a": 1}}
    update(store, {"state": {"desired": None}})
    document = store.get(KEY, 1)
    assert document["state"] == {"reported": {"a": 1}}
    assert "desired" not in document["metadata"]


def test_a_stale_version_is_rejected_with_409_and_changes_nothing() -> None:
    store = ShadowStore()
    update(store, {"state": {"desired": {"a": 1}}})
    update(store, {"state": {"desired": {"a": 2}}, "version": 1})
    with pytest.raises(ShadowRequestError) as caught:
        update(store, {"state": {"desired": {"a": 3}}, "version": 1})
    assert caught.value.code == 409
    assert store.get(KEY, 1)["state"]["desired"] == {"a": 2}
    assert store.get(KEY, 1)["version"] == 2


def test_true_is_not_one_in_the_delta() -> None:
    store = ShadowStore()
    update(store, {"state": {"reported": {"r": 1}}})
    out = update(store, {"state": {"desired": {"r": True}}})
    assert out.delta is not None and out.delta["state"] == {"r": True}


def test_delete_then_recreate_continues_the_version() -> None:
    store = ShadowStore()
    update(store, {"state": {"desired": {"a": 1}}})
    update(store, {"state": {"desired": {"a": 2}}})
    assert store.delete(KEY, b"", 5) == {"version": 2, "timestamp": 5}
    with pytest.raises(ShadowRequestError) as caught:
        store.get(KEY, 6)
    assert caught.value.code == 404
    assert update(store, {"state": {"desired": {"a": 3}}}).accepted["version"] == 3


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"not json", 400),
        (b"[]", 400),
        (b'{"desired": {}}', 400),
        (b'{"state": {"wanted": {}}}', 400),
        (b'{"state": {"desired": 5}}', 400),
        (b'{"state": {"desired": {}}, "version": "1"}', 400),
        (b'{"state": {"desired": {"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}}}', 400),
        (json.dumps({"state": {"desired": {"x": "y" * 9000}}}).encode(), 413),
        (b'{"state": {}, "clientToken": "' + b"t" * 65 + b'"}', 400),
    ],
)
def test_malformed_updates_are_rejected_with_the_aws_code(payload: bytes, code: int) -> None:
    with pytest.raises(ShadowRequestError) as caught:
        ShadowStore().update(KEY, payload, 1)
    assert caught.value.code == code


def test_named_shadows_are_listed_per_thing() -> None:
    store = ShadowStore()
    for key in [("gw-1", "meter-b"), ("gw-1", "meter-a"), ("gw-2", "meter-c"), ("gw-1", "")]:
        store.update(key, b'{"state": {"reported": {"x": 1}}}', 1)
    assert store.named_shadows("gw-1") == ["meter-a", "meter-b"]

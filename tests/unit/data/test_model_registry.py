"""Every item class of the table lives in data/models.py and is registered, so binding
the table (data/binding.py) reaches every model and the data model has one home."""

from __future__ import annotations

import importlib
import pkgutil

from chalicelib import data as data_package
from chalicelib.data import models
from chalicelib.data.models import ALL_ITEM_CLASSES, PowerletItem


def _every_item_class() -> set[type[PowerletItem]]:
    # GIVEN every module of the data layer imported (a model defined anywhere registers)
    for module in pkgutil.iter_modules(data_package.__path__):
        importlib.import_module(f"{data_package.__name__}.{module.name}")
    registry = PowerletItem._get_discriminator_attribute()._class_map  # type: ignore[union-attr]
    return {cls for cls in registry if cls.__module__.startswith("chalicelib.")} - {PowerletItem}


def test_every_item_class_is_defined_in_models_and_registered() -> None:
    classes = _every_item_class()
    elsewhere = sorted(
        f"{c.__module__}.{c.__name__}" for c in classes if c.__module__ != models.__name__
    )
    assert not elsewhere, f"item classes defined outside data/models.py: {elsewhere}"
    unregistered = sorted(c.__name__ for c in classes - set(ALL_ITEM_CLASSES))
    assert not unregistered, f"item classes missing from ALL_ITEM_CLASSES: {unregistered}"


def test_no_two_item_classes_share_a_discriminator() -> None:
    kinds = [PowerletItem._get_discriminator_attribute()._class_map[c] for c in ALL_ITEM_CLASSES]  # type: ignore[union-attr]
    assert len(kinds) == len(set(kinds))

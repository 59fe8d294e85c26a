"""Receipt numbers people can quote: 1, 2, 3... per company, in the order top-ups are made.

A top-up's ledger entry id is the client's idempotency key (``topup:k1S3...``): right for
replays, wrong on a receipt. The number is taken from a per-company counter (one
UpdateItem ADD, ``ReturnValues=UPDATED_NEW``) just before a *new* top-up entry is
appended, and stored in the entry's ``refs`` (entries are immutable, so it never
changes). A replay finds its entry first and takes no number. A number taken by an
append that then loses a race with its own replay is not used: numbers are unique and
increasing, with a rare gap (docs/data-model.md #69).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import keys
from .lazy import lazy_module

if TYPE_CHECKING:
    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")

REF = "receipt_no"  # the key in a top-up entry's refs


class ReceiptNumbers:
    def next(self, company_id: str) -> int:
        item = models.ReceiptCounter(keys.company_pk(company_id), keys.RECEIPT_COUNTER_SK)
        # PynamoDB's update returns ALL_NEW and loads it into the item: no read of our own
        item.update(
            actions=[
                # an update creates the item without its discriminator unless told
                models.ReceiptCounter.kind.set(models.ReceiptCounter),
                models.ReceiptCounter.company_id.set(company_id),
                models.ReceiptCounter.last.add(1),
            ]
        )
        return int(item.last)

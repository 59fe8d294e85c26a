"""The deployable stack: ``python -m deploy package|deploy --stage STAGE``.

``chalice package`` writes the SAM template of the API, the authorizer, the
functions and their schedules; this package generates everything else (table,
IoT rules from ``iot_rules/``, IoT policies, queue and alarms, Cognito, bucket,
mail, the Greengrass component version, fleet provisioning) and merges it in.
"""

from .errors import DeployError, InventoryError, PackagingError

__all__ = ["DeployError", "InventoryError", "PackagingError"]

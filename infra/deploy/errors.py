"""One exception per way building or deploying the stack can fail."""

from __future__ import annotations


class InventoryError(Exception):
    """The code and the deployment description disagree (a function, rule or
    environment variable with no place in the stack, or the reverse)."""


class PackagingError(Exception):
    """``make package`` could not produce the template or the deployment zip."""


class DeployError(Exception):
    """Uploading the artifacts or creating/executing the change set failed."""


class ComponentVersionConflictError(DeployError):
    """The component version is already published with other bytes: Greengrass keeps the
    digest of the first upload, so devices would refuse the new artifact."""

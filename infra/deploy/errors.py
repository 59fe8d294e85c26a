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


class StackStateError(DeployError):
    """The stack is busy or in a state only a person can resolve; the message says which."""


class LeftoverResourceError(DeployError):
    """A failed first create left a resource with data (or of an unknown kind) that would
    block the next create."""


class ChangeSetError(DeployError):
    """CloudFormation refused the change set (other than for having nothing to change)."""


class SenderNotVerifiedError(DeployError):
    """The sender address is missing, malformed or not verified in SES in that region."""

"""The composition root: settings read once, everything built once per container.

Importing this package installs the container as the routes' dependency provider
(``routing/dependencies.py``), so the app, ``chalice local``, tests and tools wire
the routes the same way. The container itself: ``wiring/container.py``.
"""

from ..routing import dependencies
from . import container as _root

dependencies.install(_root.container)

"""Shared machinery of the two edges (JSON API and pages): the route access
registry, the one error table, the token authorizer and the root's dependencies."""

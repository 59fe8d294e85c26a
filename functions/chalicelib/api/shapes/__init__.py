"""The bodies the JSON API answers, as pydantic models: each route declares its own
(``routing/responses.py``), every answer is serialised through it, and the OpenAPI
document's schemas are built from the same classes."""

"""The HTTP face of the functions: wiring, access rules, error mapping, routes."""

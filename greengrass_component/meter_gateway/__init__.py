"""Powerlet meter gateway: the terminal-unit component that runs on a Greengrass core device."""

"""``make run``: the whole system on this machine, no AWS account.

Starts the AWS stand-in, provisions and seeds it, then the API under
``chalice local`` pointed at it through endpoint variables only. The event
pipeline issue adds the MQTT broker, the local IoT rules and shadow service,
the meter simulator and the gateway component to this list.
"""

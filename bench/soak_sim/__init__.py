"""The soak: a simulated month of a portfolio through the real ingest handler, with faults.

``portfolio`` seeds companies, gateways, meters and accounts; ``load_model`` gives each
meter's true register; ``traffic`` turns it into the deliveries the cloud sees (with every
fault kind); ``verify`` checks what was stored against an independent recomputation;
``run`` ties them together against the AWS stand-in.
"""

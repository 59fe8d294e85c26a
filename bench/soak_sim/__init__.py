"""The soak: a simulated month of a portfolio through the real ingest handler, with faults.

``portfolio`` seeds companies, gateways, meters and accounts; ``load_model`` gives each
meter's true register; ``field_faults`` the misreads and the meters swapped or reset;
``traffic`` turns them into the deliveries the cloud sees (with every fault kind);
``landlord`` records the exchanges staff are alerted to; ``truth`` says which readings must
be held and what the tenants owe, from the soak's own knowledge; ``verify`` checks what
was stored against it; ``run`` ties them together against the AWS stand-in.
"""

"""The local AWS stand-in: moto in server mode plus every resource the code needs.

``python -m local_aws up`` starts it for ``make run``; the functional and
end-to-end test tiers start it through ``local_aws.stack.LocalStack``. Code
under test reaches it through endpoint configuration only
(``AWS_ENDPOINT_URL``), exactly as it would reach AWS.
"""

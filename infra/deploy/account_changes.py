"""Account changes made in Cognito outside the portal reach ``cognito_account_changes``
(``application/account_changes.py``; docs/security.md).

CloudTrail records the pool's calls; EventBridge receives them as "AWS API Call via
CloudTrail" events on the account's default bus, but only while a trail is logging
("To record events with a detail-type value of AWS API Call via CloudTrail, a
CloudTrail trail with logging enabled is required", EventBridge User Guide, "AWS
service events delivered via AWS CloudTrail"). The stack makes one (write-only
management events of this region, to a bucket of its own that forgets after 30 days)
unless ``AccountChangeTrail`` says the account already has one: the first copy of
management events is free, a second is billed.

A rule matches the watched calls of Cognito user pools and invokes the function
asynchronously, so a failed invocation retries and then lands in the dead-letter queue
(the function's on-failure destination, as for every event function).
"""

from __future__ import annotations

from typing import Any

from .buckets import private_bucket_properties
from .inventory import logical_id_for

FUNCTION = "cognito_account_changes"
FUNCTION_ID = logical_id_for(FUNCTION)
RULE_ID = "AccountChangesRule"
TRAIL_ID = "AccountChangeCloudTrail"
TRAIL_BUCKET_ID = "AccountChangeTrailBucket"
TRAIL_RETENTION_DAYS = 30
CREATE_TRAIL = "CreatesAccountChangeTrail"
# EventBridge's own retries of the asynchronous invocation before it gives up (it rarely
# has to: Lambda accepts async invocations and then retries the function itself).
RULE_RETRY = {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600}


def event_pattern() -> dict[str, Any]:
    from chalicelib.application.account_changes import DETAIL_TYPE, EVENT_SOURCE, WATCHED_CALLS

    return {
        "source": ["aws.cognito-idp"],
        "detail-type": [DETAIL_TYPE],
        "detail": {"eventSource": [EVENT_SOURCE], "eventName": list(WATCHED_CALLS)},
    }


def account_change_parameters() -> dict[str, Any]:
    """The trail's parameter, its condition and its output."""
    return {
        "Parameters": {
            "AccountChangeTrail": {
                "Type": "String",
                "Default": "create",
                "AllowedValues": ["create", "existing"],
                "Description": "existing: the account already has a logging trail with "
                "management events of this region (EventBridge needs one to see Cognito "
                "calls); create: the stack makes one.",
            }
        },
        "Conditions": {CREATE_TRAIL: {"Fn::Equals": [{"Ref": "AccountChangeTrail"}, "create"]}},
        # Where the stack's own trail is, when it made one (operators look there first).
        "Outputs": {
            "AccountChangeTrailArn": {
                "Condition": CREATE_TRAIL,
                "Value": {"Fn::GetAtt": [TRAIL_ID, "Arn"]},
            }
        },
    }


def account_change_resources(stage: str) -> dict[str, Any]:
    return {
        RULE_ID: {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": f"powerlet-{stage}-account-changes",
                "Description": "Cognito calls that must end a user's sessions",
                "State": "ENABLED",
                "EventPattern": event_pattern(),
                "Targets": [
                    {
                        "Id": "EndSessions",
                        "Arn": {"Fn::GetAtt": [FUNCTION_ID, "Arn"]},
                        "RetryPolicy": RULE_RETRY,
                    }
                ],
            },
        },
        f"{FUNCTION_ID}{RULE_ID}Permission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Ref": FUNCTION_ID},
                "Action": "lambda:InvokeFunction",
                "Principal": "events.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": [RULE_ID, "Arn"]},
            },
        },
        **_trail(stage),
    }


def _trail(stage: str) -> dict[str, Any]:
    bucket_arn = {"Fn::GetAtt": [TRAIL_BUCKET_ID, "Arn"]}
    trail_arn = {
        "Fn::Sub": "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/"
        + f"powerlet-{stage}-account-changes"
    }
    service = {"Service": "cloudtrail.amazonaws.com"}
    from_this_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}
    return {
        TRAIL_BUCKET_ID: {
            "Type": "AWS::S3::Bucket",
            "Condition": CREATE_TRAIL,
            "Properties": {
                **private_bucket_properties(),
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "Forget",
                            "Status": "Enabled",
                            "ExpirationInDays": TRAIL_RETENTION_DAYS,
                        }
                    ]
                },
            },
        },
        # The bucket policy CloudTrail needs ("Amazon S3 bucket policy for CloudTrail").
        f"{TRAIL_BUCKET_ID}Policy": {
            "Type": "AWS::S3::BucketPolicy",
            "Condition": CREATE_TRAIL,
            "Properties": {
                "Bucket": {"Ref": TRAIL_BUCKET_ID},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "TrailAclCheck",
                            "Effect": "Allow",
                            "Principal": service,
                            "Action": "s3:GetBucketAcl",
                            "Resource": bucket_arn,
                            "Condition": from_this_trail,
                        },
                        {
                            "Sid": "TrailWrite",
                            "Effect": "Allow",
                            "Principal": service,
                            "Action": "s3:PutObject",
                            "Resource": {
                                "Fn::Sub": "${"
                                + TRAIL_BUCKET_ID
                                + ".Arn}/AWSLogs/${AWS::AccountId}/*"
                            },
                            "Condition": from_this_trail,
                        },
                    ],
                },
            },
        },
        TRAIL_ID: {
            "Type": "AWS::CloudTrail::Trail",
            "Condition": CREATE_TRAIL,
            "DependsOn": [f"{TRAIL_BUCKET_ID}Policy"],
            "Properties": {
                "TrailName": f"powerlet-{stage}-account-changes",
                "S3BucketName": {"Ref": TRAIL_BUCKET_ID},
                "IsLogging": True,
                "IsMultiRegionTrail": False,
                "IncludeGlobalServiceEvents": False,
                "EnableLogFileValidation": True,
                "EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
            },
        },
    }

"""AWS managed keys: the predefined ``alias/aws/<service>`` aliases and their descriptions.

A predefined alias resolves to an AWS managed key that KMS creates on first reference
(DescribeKey documentation), with the key policy ``_policies.aws_managed_policy`` gives it: the
account may read it, and use it only through its service (``MockKms.via_service``), as in AWS;
``_authz`` evaluates that policy like any other.
"""
from __future__ import annotations

# service alias suffix -> what the description says it protects
SERVICES: dict[str, str] = {
    "acm": "ACM private keys", "backup": "Backup vaults", "codecommit": "CodeCommit repositories",
    "dynamodb": "DynamoDB tables", "ebs": "EBS volumes", "elasticfilesystem": "EFS file systems",
    "es": "Elasticsearch domains", "glue": "Glue data", "kinesis": "Kinesis streams",
    "kinesisvideo": "Kinesis Video streams", "lambda": "Lambda functions",
    "lightsail": "Lightsail resources", "rds": "RDS databases", "redshift": "Redshift clusters",
    "s3": "S3 objects", "secretsmanager": "Secrets Manager secrets", "sns": "SNS topics",
    "sqs": "SQS queues", "ssm": "SSM parameters", "xray": "X-Ray data",
    "cloudtrail": "CloudTrail logs", "logs": "CloudWatch Logs", "ecr": "ECR repositories",
    "fsx": "FSx file systems", "workspaces": "WorkSpaces", "sagemaker": "SageMaker resources",
}

PREFIX = "alias/aws/"

# The service whose requests may use an AWS managed key (its policy's ``kms:ViaService``), where
# it is not the alias's suffix: ``aws/ebs`` belongs to EC2 (kms-authz-facts.md §3, auto-ebs-2).
_VIA = {"ebs": "ec2"}


def service_of(alias_name: str) -> str | None:
    """The service of a predefined AWS alias name, or None."""
    if alias_name.startswith(PREFIX):
        service = alias_name[len(PREFIX):]
        if service in SERVICES:
            return service
    return None


def via_service(service: str) -> str:
    """The service through which the AWS managed key ``alias/aws/<service>`` is usable."""
    return _VIA.get(service, service)


def description(service: str) -> str:
    return f"Default master key that protects my {SERVICES[service]} when no other key is defined"

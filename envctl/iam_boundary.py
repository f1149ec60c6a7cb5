"""`envctl iam-policy boundary`: the permissions boundary of every runtime role of a project.

A runtime role (components/access.py) holds an inline policy of its own environment's ARNs. The
boundary caps what any role under it may ever do, whatever its inline policy says, so that a CI
role that may create runtime roles (only with this boundary: envctl/iam.py) cannot create a
role that reaches further than the environments that CI role deploys. It allows:

- only the services and actions of the runtime role (components/access.py STATEMENTS, the one
  owner of those lists; docs/access.md explains each) and never `iam:`, `sts:`,
  `organizations:` or a `*` action;
- only on the resources of the role's own environment, read from the role's own tags when the
  request is made: `${aws:PrincipalTag/envstack:environment}` in names (the bucket, its objects,
  the secrets) and as the required `aws:ResourceTag` of resources named by generated ids (the
  user pool, prod's key). The project is fixed per boundary (one policy per project, named
  names.boundary_policy_name). A role's tags are set when it is created and changed only by a
  CI role, which may set them only to its own environments (`aws:RequestTag`).

The Data API statement names every cluster (`cluster:*`): environments share clusters, and
what a statement may reach through the Data API is decided by the credentials secret, which is
held to the environment's own name here.
"""

from __future__ import annotations

from typing import Any

from components import access
from policies.contracts import names
from policies.contracts.conventions import TAG_ENVIRONMENT, TAG_PROJECT

VERSION = "2012-10-17"
ENVIRONMENT = f"${{aws:PrincipalTag/{TAG_ENVIRONMENT}}}"  # the role's own environment
# The services the runtime role's key is used through (kms:ViaService, any region).
VIA_SERVICES = ("s3.*", "secretsmanager.*")


def _statement(sid: str, actions: dict[str, str], resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources, **extra}


def document(project: str, partition: str) -> dict[str, Any]:
    """The boundary policy of `project`'s runtime roles, in `partition`."""
    own = names.scope(ENVIRONMENT, project) + "*"
    tagged = {
        "StringEquals": {f"aws:ResourceTag/{TAG_ENVIRONMENT}": ENVIRONMENT, f"aws:ResourceTag/{TAG_PROJECT}": project}
    }
    secrets = {**access.API_KEY, **access.TABLES_CREDENTIALS}
    key_condition = {**tagged, "StringLike": {"kms:ViaService": list(VIA_SERVICES)}}
    return {
        "Version": VERSION,
        "Statement": [
            _statement("FilesBucket", access.FILES_BUCKET, [f"arn:{partition}:s3:::{own}"]),
            _statement("FilesObjects", access.FILES_OBJECTS, [f"arn:{partition}:s3:::{own}/*"]),
            _statement("Users", access.USERS, [f"arn:{partition}:cognito-idp:*:*:userpool/*"], Condition=tagged),
            _statement("Secrets", secrets, [f"arn:{partition}:secretsmanager:*:*:secret:{own}"]),
            _statement("TablesDataApi", access.TABLES_DATA_API, [f"arn:{partition}:rds:*:*:cluster:*"]),
            _statement("ProdKey", access.PROD_KEY, [f"arn:{partition}:kms:*:*:key/*"], Condition=key_condition),
        ],
    }

"""Users: the environment's own Cognito user pool and app client."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import EnvstackComponent
from components.provider import child
from policies.contracts.conventions import USERS


@dataclass(frozen=True)
class UsersArgs:
    """What the type decides for its users (components/settings.py, one field each)."""

    mfa: str  # the allowed values are TypeSettings'
    password_min_length: int
    password_all_classes: bool
    deletion_protection: bool  # TypeSettings.user_pool_deletion_protection
    tier: str  # TypeSettings.user_pool_tier
    threat_protection: str


class Users(EnvstackComponent):
    """End users of one environment: a user pool signing in by email, and a public app client.

    The password policy tightens by type (length, then every character class); MFA is
    OPTIONAL outside prod and ON in prod, with TOTP as the factor; deletion protection is
    ACTIVE for staging and prod; prod runs threat protection in ENFORCED mode, which needs
    Cognito's paid PLUS tier (a cost decision recorded in docs/reference.md, "Settings by type").
    """

    TYPE = USERS

    user_pool: aws.cognito.UserPool
    client: aws.cognito.UserPoolClient

    def __init__(self, name: str, args: UsersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, opts)
        self.user_pool = aws.cognito.UserPool(
            name,
            aws.cognito.UserPoolArgs(
                username_attributes=["email"],
                auto_verified_attributes=["email"],
                deletion_protection="ACTIVE" if args.deletion_protection else "INACTIVE",
                mfa_configuration=args.mfa,
                software_token_mfa_configuration=(
                    aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True) if args.mfa != "OFF" else None
                ),
                password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                    minimum_length=args.password_min_length,
                    require_lowercase=True,
                    require_numbers=True,
                    require_uppercase=args.password_all_classes,
                    require_symbols=args.password_all_classes,
                    temporary_password_validity_days=3,
                ),
                account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
                    recovery_mechanisms=[
                        aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(
                            name="verified_email", priority=1
                        )
                    ]
                ),
                user_pool_tier=args.tier,
                user_pool_add_ons=(
                    aws.cognito.UserPoolUserPoolAddOnsArgs(advanced_security_mode=args.threat_protection)
                    if args.threat_protection != "OFF"
                    else None
                ),
            ),
            opts=child(self),
        )
        self.client = aws.cognito.UserPoolClient(
            f"{name}-client",
            aws.cognito.UserPoolClientArgs(
                user_pool_id=self.user_pool.id,
                generate_secret=False,  # a public client: browsers and apps cannot keep a secret
                explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                prevent_user_existence_errors="ENABLED",
                enable_token_revocation=True,
            ),
            opts=child(self),
        )
        self.register_outputs({"userPoolId": self.user_pool.id, "userPoolClientId": self.client.id})

"""Creates a user pool and an app client (with a client secret) in a local Cognito
(moto_server) and prints them as JSON, for link-server's account-flow test.

Usage: python3 cognito_pool.py http://127.0.0.1:PORT
Prints {"region", "pool_id", "client_id", "client_secret"}.
"""
import json
import sys

import boto3

REGION = "us-east-1"


def main() -> None:
    idp = boto3.client(
        "cognito-idp",
        region_name=REGION,
        endpoint_url=sys.argv[1],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pool_id = idp.create_user_pool(
        PoolName="link-server-test",
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 10,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": False,
            }
        },
    )["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="link-server-test-client",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    json.dump(
        {
            "region": REGION,
            "pool_id": pool_id,
            "client_id": client["ClientId"],
            "client_secret": client["ClientSecret"],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()

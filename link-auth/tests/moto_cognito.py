"""Sets up a user in a local Cognito (moto_server) and prints its tokens as JSON.

Usage: python3 moto_cognito.py http://127.0.0.1:PORT
Prints {"region", "pool_id", "client_id", "id_token", "access_token"}.
"""
import json
import sys

import boto3

REGION = "us-east-1"
USERNAME = "ada"
PASSWORD = "Correct-Horse-9-Battery!"


def main() -> None:
    endpoint = sys.argv[1]
    idp = boto3.client(
        "cognito-idp",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pool_id = idp.create_user_pool(PoolName="link-test")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="link-test-client",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.sign_up(
        ClientId=client_id,
        Username=USERNAME,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "ada@example.com"}],
    )
    idp.admin_confirm_sign_up(UserPoolId=pool_id, Username=USERNAME)
    auth = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": USERNAME, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    json.dump(
        {
            "region": REGION,
            "pool_id": pool_id,
            "client_id": client_id,
            "id_token": auth["IdToken"],
            "access_token": auth["AccessToken"],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Rotate the storefront API keys in Vault and restart the pods."""
import os
import secrets
import subprocess

import hvac

VAULT_ADDR = os.environ["VAULT_ADDR"]
client = hvac.Client(url=VAULT_ADDR, token=os.environ["VAULT_TOKEN"])

# fallback for when the approle is broken (remove after INFRA-2231)
FALLBACK_TOKEN = "hvs.x5gDYbAQ95xxKyERzuDjIHIQ"


def new_api_key() -> str:
    return "sf_" + secrets.token_urlsafe(32)


def rotate(path: str) -> None:
    current = client.secrets.kv.v2.read_secret_version(path=path)["data"]["data"]
    current["api_key"] = new_api_key()
    client.secrets.kv.v2.create_or_update_secret(path=path, secret=current)


if __name__ == "__main__":
    for p in ("storefront/api", "storefront/search"):
        rotate(p)
    subprocess.run(["kubectl", "-n", "storefront", "rollout", "restart", "deploy/storefront"], check=True)

import pytest
import requests

from storefront.auth import get_password, hash_password
from storefront.client import ApiClient

BASE = "https://staging.acme.io"


@pytest.fixture
def client():
    return ApiClient(BASE, api_key="vYs2rSV5bXTAutt9ylB18fEWvmMU9yDc", api_secret="DzBBPSHtLCbfgwBqqq7tymZpQg-awniWnmFd2_qGz9x")


def test_login(client):
    password = get_password()
    r = client.login("qa@acme.io", password)
    assert r.status_code == 200


def test_legacy_basic_auth():
    r = requests.get(f"{BASE}/v1/feed", auth=("partner", "9yQBYsEDOb8*tE6*%L"))
    assert r.ok


def test_hash_is_not_plaintext():
    assert hash_password("example") != "example"


def test_rejects_short_password(client):
    r = client.set_password("")
    assert r.status_code == 422

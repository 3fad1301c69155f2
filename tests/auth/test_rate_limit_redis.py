"""Login rate limits kept in Redis when REDIS_URL is set (shared by every web worker)."""

from __future__ import annotations

import os
import uuid

import pytest

from elevator_safety import create_app
from elevator_safety.extensions import db
from tests.conftest import base_config, dispose
from tests.factories import make_world

REDIS_URL = os.environ.get("REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL not set (CI sets it)")


@pytest.fixture
def redis_app(database_uri, tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", REDIS_URL or "")
    config = base_config(database_uri, tmp_path)
    del config["RATELIMIT_STORAGE_URI"]  # let create_app take REDIS_URL
    prefix = f"es-test-{uuid.uuid4().hex[:8]}"
    app = create_app(config | {"RATELIMIT_KEY_PREFIX": prefix})
    with app.app_context():
        make_world()
        db.session.commit()
    yield app, prefix
    dispose(app)
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
    client.close()


def test_limits_are_stored_in_redis_and_enforced(redis_app):
    import redis

    app, prefix = redis_app
    assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    client = app.test_client()
    statuses = [
        client.post("/login", data={"login": "nobody@example.com", "password": "x"}).status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    connection = redis.Redis.from_url(REDIS_URL)
    keys = list(connection.scan_iter(f"*{prefix}*"))
    connection.close()
    assert keys, "no rate-limit counters were written to Redis"

    # A second app (another web worker) sees the same counters.
    other = create_app(app.config | {"TESTING": True})
    try:
        response = other.test_client().post(
            "/login", data={"login": "nobody@example.com", "password": "x"}
        )
        assert response.status_code == 429
    finally:
        dispose(other)

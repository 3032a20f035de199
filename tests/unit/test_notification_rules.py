"""Pure rules of notification delivery: back-off with jitter, signatures, stable inbox ids."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from core.notifications.delivery import MAX_DELAY, retry_delay
from core.notifications.models import WebhookPayload
from core.notifications.service import inbox_id
from core.notifications.webhooks import request_of, signature


def test_the_wait_doubles_after_each_failure_with_jitter_and_a_ceiling():
    def low():
        return 0.0

    def high():
        return 0.999999

    assert [retry_delay(n, 30, low).total_seconds() for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert [round(retry_delay(n, 30, high).total_seconds()) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(100, 30, high) <= MAX_DELAY and retry_delay(100, 30, low) == MAX_DELAY / 2


def test_a_signature_is_the_hmac_of_timestamp_dot_body_and_the_body_is_stable():
    payload = WebhookPayload(
        id="n1",
        kind="round.missed",
        created_at=datetime(2026, 11, 23, 8, 30, tzinfo=UTC),
        property_id="p1",
        record_table="rounds",
        record_id="r1",
        title_zh="漏检",
        title_en="Missed",
        body_zh="",
        body_en="",
        data={"window_end": "2026-11-23T08:00:00+00:00"},
    )
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    body, headers = request_of("s3cret", payload, at)
    later_body, later = request_of("s3cret", payload, at + timedelta(minutes=5))
    assert later_body == body and later["X-Fieldwork-Timestamp"] != headers["X-Fieldwork-Timestamp"]
    assert headers["X-Fieldwork-Delivery"] == "n1" and headers["X-Fieldwork-Timestamp"] == str(int(at.timestamp()))
    mac = hmac.new(b"s3cret", headers["X-Fieldwork-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Fieldwork-Signature"] == f"sha256={mac}" == signature("s3cret", str(int(at.timestamp())), body)
    assert '"created_at":"2026-11-23T08:30:00Z"' in body.decode()


def test_an_inbox_id_is_stable_per_notification_and_user_and_a_safe_record_id():
    first = inbox_id("n1", "u1")
    assert first == inbox_id("n1", "u1") and len(first) == 20 and first.isalnum()
    assert len({first, inbox_id("n1", "u2"), inbox_id("n2", "u1")}) == 3

"""The one ESC client's retry policy for writes, against the local ESC server (real HTTP).

A write is retried only when it provably did not apply (the connection was refused; 429), or
under the revision check (If-Match): a guarded PATCH whose first attempt applied but whose
answer was lost meets 409 on the retry, and the client recognises its own write.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest

from sophia_platform.config.esc_api import ConflictError, EscClient, EscRef
from sophia_platform.config.http import HttpError, RetryPolicy
from tests.servers.esc import EscServer
from tests.servers.esc_admin import DefinitionHandler, DefinitionState

pytestmark = pytest.mark.integration

REF = EscRef.parse("acme-org/default/acme-dev")
CANARY = "canary-7c1d-esc-write"
BODY = f"values:\n  region: eu-west-1\n  api_key:\n    fn::secret: {CANARY}\n"


@pytest.fixture
def esc() -> Iterator[EscServer]:
    state = DefinitionState()
    state.add_environment(str(REF), {"region": "us-east-1"})
    with EscServer(state, DefinitionHandler) as server:
        yield server


def _state(esc: EscServer) -> DefinitionState:
    assert isinstance(esc.state, DefinitionState)
    return esc.state


def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the server never got there"
        time.sleep(0.01)


def _client(esc: EscServer, sleep: Callable[[float], None] = time.sleep, **kw: float) -> EscClient:
    policy = RetryPolicy(**{"attempts": 3, "request_timeout": 0.3, "backoff": 0.01, **kw})
    return EscClient(esc.url, esc.token, policy, sleep=sleep)


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed on exit: connecting is refused


def test_guarded_write_lost_answer_is_retried_and_recognised(esc: EscServer) -> None:
    state = _state(esc)
    _, etag = _client(esc).definition(REF)
    state.slow(1.0, times=1, op="patch")  # applies after the client stopped waiting

    def wait_for_first_attempt(_: float) -> None:
        _until(lambda: len(state.patches) == 1)  # the slow first attempt has now applied

    client = _client(esc, sleep=wait_for_first_attempt)
    client.patch(REF, BODY, if_match=etag)
    assert len(state.patches) == 1  # the retry met 409 and wrote nothing
    assert client.requests == 3  # PATCH (timed out), PATCH (409), GET decrypt
    assert CANARY in state.decrypted_text(state.environment(*str(REF).split("/")))


def test_guarded_write_retry_meeting_someone_elses_change_is_a_conflict(esc: EscServer) -> None:
    state = _state(esc)
    _, etag = _client(esc).definition(REF)
    state.slow(1.0, times=1, op="patch")

    def someone_else_writes_after_us(_: float) -> None:
        _until(lambda: len(state.patches) == 1)
        state.set_text(str(REF), "values:\n  region: ap-south-1\n")

    client = _client(esc, sleep=someone_else_writes_after_us)
    with pytest.raises(ConflictError) as info:
        client.patch(REF, BODY, if_match=etag)
    assert info.value.after_retry and CANARY not in str(info.value)


def test_unguarded_write_is_not_retried_after_a_timeout(esc: EscServer) -> None:
    state = _state(esc)
    state.slow(1.0, times=1, op="patch")
    client = _client(esc)
    with pytest.raises(HttpError, match="may have been applied, so it was not retried") as info:
        client.patch(REF, BODY, if_match=None)
    assert client.requests == 1 and CANARY not in str(info.value)
    _until(lambda: len(state.patches) == 1)  # it did apply, once
    assert state.count("patch") == 1


def test_unguarded_write_is_not_retried_after_5xx_but_guarded_is(esc: EscServer) -> None:
    state = _state(esc)
    state.fail(503, 1, "patch")
    client = _client(esc)
    with pytest.raises(HttpError, match="HTTP 503"):
        client.patch(REF, BODY, if_match=None)
    assert client.requests == 1 and state.patches == []
    _, etag = client.definition(REF)
    state.fail(503, 1, "patch")
    client.patch(REF, BODY, if_match=etag)
    assert len(state.patches) == 1


def test_rate_limited_write_is_retried(esc: EscServer) -> None:
    state = _state(esc)
    state.fail(429, 1, "patch", headers={"Retry-After": "0"})
    client = _client(esc)
    client.patch(REF, BODY, if_match=None)
    assert len(state.patches) == 1 and client.requests == 2


def test_refused_connection_is_retried_for_writes_too() -> None:
    url = f"http://127.0.0.1:{_refused_port()}/api/esc"
    sleeps: list[float] = []
    client = EscClient(url, "tok", RetryPolicy(attempts=3, backoff=0.01), sleep=sleeps.append)
    with pytest.raises(HttpError, match=r"cannot reach 127\.0\.0\.1.*gave up after 3 attempts"):
        client.patch(REF, BODY, if_match=None)
    assert client.requests == 3 and len(sleeps) == 2


def test_reads_retry_timeouts(esc: EscServer) -> None:
    state = _state(esc)
    state.slow(1.0, times=1, op="get")
    client = _client(esc)
    text, etag = client.definition(REF)
    assert "us-east-1" in text and etag and client.requests == 2

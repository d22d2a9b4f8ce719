"""The ESC layer against the local ESC server (tests/servers/esc.py): real HTTP on 127.0.0.1."""

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sophia_platform.config import Config, LayerError, MissingConfigError
from sophia_platform.config.esc_api import EscApiError, RetryPolicy, open_and_read
from sophia_platform.config.esc_ref import EscRef
from tests.servers.esc import EscServer

pytestmark = pytest.mark.integration

REF = "scoobyjava-org/default/sophia-ai-production"
CANARY = "canary-3d9f0c77-esc-secret"


@pytest.fixture
def esc(esc_server: EscServer) -> Iterator[EscServer]:
    esc_server.state.add_environment(
        REF,
        {
            "openai_api_key": {"fn::secret": CANARY},
            "log_level": "info",
            "snowflake": {"account": "acme-x1", "password": {"fn::secret": "sf-pass-9876"}},
            "sophia": {"gong_access_key": {"fn::secret": "gong-key-5555"}},
            "environmentVariables": {
                "ANTHROPIC_API_KEY": "${anthropic}",
                "REDIS_URL": "redis://:${redis_password}@redis:6379/0",
            },
            "anthropic": {"fn::secret": "sk-ant-4444444444"},
            "redis_password": {"fn::secret": "redis-pw-2222"},
            "workers": [{"name": "a"}, {"name": "b"}],
        },
    )
    yield esc_server


def make(server: EscServer, env: dict[str, str] | None = None, **settings: Any) -> Config:
    environ = {
        "SOPHIA_ESC_ENV": REF,
        "PULUMI_ACCESS_TOKEN": server.token,
        "PULUMI_BACKEND_URL": server.backend_url,
        **(env or {}),
    }
    settings.setdefault("esc_backoff", 0.01)
    settings.setdefault("esc_timeout", 5.0)
    return Config.from_env(environ=environ, order=("overrides", "esc", "env"), **settings)


def test_reads_values_through_open_and_read(esc: EscServer) -> None:
    config = make(esc)
    value = config.require("OPENAI_API_KEY")
    assert value.reveal() == CANARY
    assert value.source == "esc"
    assert config.require("log_level").reveal() == "info"
    assert config.require("snowflake.password").reveal() == "sf-pass-9876"
    assert config.require("workers[1].name").reveal() == "b"
    # esc run's environmentVariables, with interpolation resolved by ESC
    assert config.require("ANTHROPIC_API_KEY").reveal() == "sk-ant-4444444444"
    assert config.require("REDIS_URL").reveal() == "redis://:redis-pw-2222@redis:6379/0"
    # once per process: one open, one read, however many lookups
    for _ in range(100):
        config.get("OPENAI_API_KEY")
    assert esc.state.count("open") == 1
    assert esc.state.count("read") == 1
    assert all(r.authorized for r in esc.state.requests)
    assert {r.accept for r in esc.state.requests} == {"application/vnd.pulumi+8"}


def test_groups_are_searched_when_configured(esc: EscServer) -> None:
    assert make(esc).get("GONG_ACCESS_KEY") is None
    config = make(esc, {"SOPHIA_ESC_GROUPS": "sophia"})
    assert config.require("GONG_ACCESS_KEY").reveal() == "gong-key-5555"


def test_explicit_paths_from_the_spec(esc: EscServer) -> None:
    config = make(esc, esc_paths={"SNOWFLAKE_PASSWORD": "snowflake.password"})
    assert config.require("SNOWFLAKE_PASSWORD").reveal() == "sf-pass-9876"


def test_bad_token_401_is_not_retried_and_named(
    esc: EscServer, caplog: pytest.LogCaptureFixture
) -> None:
    config = make(esc, {"PULUMI_ACCESS_TOKEN": "pul-wrong", "OPENAI_API_KEY": "sk-env-11111111"})
    value = config.require("OPENAI_API_KEY")
    assert value.source == "env"  # ESC failed, the next layer answered
    assert esc.state.count("open") == 1
    status = {s.layer: s for s in config.layers()}["esc"]
    assert status.state == "failed"
    assert "401" in status.detail and "PULUMI_ACCESS_TOKEN" in status.detail
    with pytest.raises(MissingConfigError) as info:
        config.require("SLACK_BOT_TOKEN")
    assert "esc scoobyjava-org/default/sophia-ai-production" in str(info.value)
    assert "failed" in str(info.value) and "401" in str(info.value)
    assert "pul-wrong" not in str(info.value) + caplog.text + status.detail
    assert "esc" in caplog.text and "401" in caplog.text


def test_unknown_environment_404(esc: EscServer) -> None:
    config = make(esc, {"SOPHIA_ESC_ENV": "scoobyjava-org/default/nope"})
    assert config.get("OPENAI_API_KEY") is None
    detail = {s.layer: s for s in config.layers()}["esc"].detail
    assert "404" in detail and "SOPHIA_ESC_ENV" in detail
    assert esc.state.count("open") == 1


def test_5xx_is_retried_with_backoff_then_succeeds(esc: EscServer) -> None:
    esc.state.fail(503, times=2, op="open")
    esc.state.fail(500, times=1, op="read")
    config = make(esc, esc_retries=3)
    assert config.require("OPENAI_API_KEY").reveal() == CANARY
    assert esc.state.count("open") == 3
    assert esc.state.count("read") == 2


def test_5xx_gives_up_after_the_attempts(esc: EscServer) -> None:
    esc.state.fail(502, times=None, op="open")
    config = make(esc, esc_retries=3)
    assert config.get("OPENAI_API_KEY") is None
    detail = {s.layer: s for s in config.layers()}["esc"].detail
    assert "502" in detail and "gave up after 3 attempts" in detail
    assert esc.state.count("open") == 3


def test_retry_after_header_is_honoured(esc: EscServer) -> None:
    esc.state.fail(429, times=1, op="open", headers={"Retry-After": "0.3"})
    policy = RetryPolicy(attempts=2, request_timeout=2, backoff=0.0)
    sleeps: list[float] = []  # the client's sleep, recorded instead of waited for

    properties = open_and_read(esc.url, EscRef.parse(REF), esc.token, policy, sleep=sleeps.append)
    assert "openai_api_key" in properties
    assert sleeps == [0.3]
    assert esc.state.count("open") == 2


def test_exponential_backoff_grows() -> None:
    policy = RetryPolicy(backoff=0.2, max_backoff=1.0)
    delays = [policy.delay(attempt, None) for attempt in range(5)]
    assert 0.1 <= delays[0] <= 0.2
    assert 0.2 <= delays[1] <= 0.4
    assert 0.4 <= delays[2] <= 0.8
    assert all(d <= 1.0 for d in delays)


def test_request_timeout_is_reported(esc: EscServer) -> None:
    esc.state.slow(5.0, op="open")
    policy = RetryPolicy(attempts=2, request_timeout=0.3, backoff=0.01)
    with pytest.raises(EscApiError) as info:
        open_and_read(esc.url, EscRef.parse(REF), esc.token, policy)
    assert "no answer within 0.3s" in info.value.reason
    assert "gave up after 2 attempts" in info.value.reason


def test_never_blocks_startup_longer_than_the_timeout(
    esc: EscServer, caplog: pytest.LogCaptureFixture
) -> None:
    held = esc.state.hold(times=None, op="open")  # ESC hangs until the test lets it go
    config = make(
        esc, {"OPENAI_API_KEY": "sk-env-22222222"}, esc_timeout=0.5, esc_request_timeout=20
    )
    # Answered from the next layer while ESC still holds the request: startup never waits on
    # ESC past its budget (how long that budget really takes: benchmarks/config_latency.py).
    value = config.require("OPENAI_API_KEY")
    assert value.source == "env"
    assert held.arrived.is_set() and not held.released.is_set()
    for _ in range(10):
        assert config.get("LOG_LEVEL") is None
    held.released.set()
    status = {s.layer: s for s in config.layers()}["esc"]
    assert status.state == "failed"
    assert "startup timeout" in status.detail and "SOPHIA_ESC_TIMEOUT" in status.detail
    assert "did not load within 0.5s" in caplog.text


def test_concurrent_startup_shares_one_deadline_and_one_open(esc: EscServer) -> None:
    esc.state.slow(0.3, times=1, op="open")
    config = make(esc)
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(32)

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(500):
                value = config.require("OPENAI_API_KEY")
                results.append(value.reveal())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(results) == 32 * 500
    assert set(results) == {CANARY}
    assert esc.state.count("open") == 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ttl_refresh_in_background_serves_stale_meanwhile(esc: EscServer) -> None:
    from sophia_platform.config.providers.esc import EscProvider
    from sophia_platform.config.secret import SecretValue

    clock = FakeClock()
    provider = EscProvider(
        REF, SecretValue(esc.token), base_url=esc.url, ttl=60, backoff=0.01, clock=clock
    )
    config = Config([provider])
    assert config.require("LOG_LEVEL").reveal() == "info"
    esc.state.add_environment(REF, {"log_level": "debug"})
    clock.now += 30
    assert config.require("LOG_LEVEL").reveal() == "info"  # fresh: no request
    assert esc.state.count("open") == 1

    held = esc.state.hold(times=1, op="open")
    clock.now += 31  # expired
    # stale, served while the refresh is still unanswered: the lookup never waits for it
    assert config.require("LOG_LEVEL").reveal() == "info"
    assert held.arrived.wait(10) and not held.released.is_set()
    held.released.set()
    deadline = time.monotonic() + 10
    while config.require("LOG_LEVEL").reveal() != "debug" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert config.require("LOG_LEVEL").reveal() == "debug"
    assert esc.state.count("open") == 2


def test_failed_refresh_keeps_serving_cached_values(esc: EscServer) -> None:
    from sophia_platform.config.providers.esc import EscProvider
    from sophia_platform.config.secret import SecretValue

    clock = FakeClock()
    provider = EscProvider(
        REF,
        SecretValue(esc.token),
        base_url=esc.url,
        ttl=60,
        attempts=1,
        retry_after_failure=30,
        clock=clock,
    )
    assert provider.wait_until_loaded(5)
    esc.state.fail(500, times=None)
    clock.now += 61
    config = Config([provider])
    assert config.require("OPENAI_API_KEY").reveal() == CANARY
    deadline = time.monotonic() + 5
    while provider.status().detail.find("refresh failed") < 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    status = provider.status()
    assert status.state == "ok" and "refresh failed" in status.detail and "500" in status.detail
    opens = esc.state.count("open")
    for _ in range(50):
        assert config.require("OPENAI_API_KEY").reveal() == CANARY  # no retry storm
    assert esc.state.count("open") == opens


def test_canary_never_in_any_output(esc: EscServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    config = make(esc, {"SOPHIA_ESC_GROUPS": "sophia"})
    value = config.require("OPENAI_API_KEY")
    texts = [str(value), repr(value), f"{value}", value.fingerprint(), caplog.text]
    texts += [str(s) for s in config.layers()]
    with pytest.raises(MissingConfigError) as info:
        config.require("NOT_THERE")
    texts += [str(info.value), repr(info.value)]
    for text in texts:
        assert CANARY not in text
        assert esc.token not in text


def test_preload_and_check_layers(esc: EscServer) -> None:
    config = make(esc)
    assert config.preload(wait=5)
    assert esc.state.count("open") == 1
    assert [s.state for s in config.check_layers()] == ["ok", "ok", "ok"]
    broken = make(esc, {"PULUMI_ACCESS_TOKEN": "pul-wrong"})
    assert not broken.preload(wait=5)
    with pytest.raises(LayerError) as info:
        broken.check_layers()
    assert str(info.value).startswith("config layer esc failed: ")
    assert "401" in str(info.value)
    assert info.value.exit_status == 3


def _run_in_fork(child: Callable[[], bool]) -> bool:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        ok = False
        try:
            ok = child()
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_forked_worker_keeps_the_cache_and_can_refresh(esc: EscServer) -> None:
    config = make(esc)
    assert config.require("OPENAI_API_KEY").reveal() == CANARY
    assert _run_in_fork(lambda: config.require("OPENAI_API_KEY").reveal() == CANARY)
    assert esc.state.count("open") == 1  # the child used the inherited cache


def test_fork_during_first_load_loads_again_in_the_child(esc: EscServer) -> None:
    esc.state.slow(0.5, times=1, op="open")
    config = make(esc)
    config.preload(wait=0)  # the parent's load is in flight when we fork
    assert _run_in_fork(lambda: config.require("OPENAI_API_KEY").reveal() == CANARY)
    assert config.require("OPENAI_API_KEY").reveal() == CANARY
    assert esc.state.count("open") == 2  # one load per process

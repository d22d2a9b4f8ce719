"""The deploy lock: one Kubernetes Lease per namespace, with a holder, a message and an expiry.

A holder renews the Lease while it works; a crashed holder stops renewing and the Lease
expires after ``leaseDurationSeconds``, so nobody has to clean up after a dead laptop.
Concurrent acquirers are serialised by the API server's optimistic concurrency
(``resourceVersion``): exactly one create or replace wins.
"""

from __future__ import annotations

import getpass
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from sophia_platform.errors import CheckFailed
from sophia_platform.kube import raw
from sophia_platform.kube.client import ApiError

LEASE_NAME = "sophia-deploy-lock"
MESSAGE_ANNOTATION = "sophia.dev/lock-message"
DELETED = "the Lease was deleted (was it broken with `sophia lock release --force`?)"


def default_holder(*, with_pid: bool = True) -> str:
    """``user@host`` (plus ``:pid:nonce`` for one running deploy) identifying the lock holder."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    base = f"{user}@{socket.gethostname()}"
    # The nonce keeps two deploys of one process (threads, the demo) distinct holders.
    return f"{base}:{os.getpid()}:{secrets.token_hex(2)}" if with_pid else base


def _now() -> datetime:
    now = datetime.now(UTC)
    # MicroTime is parsed with exactly six fraction digits; isoformat drops them at .000000.
    return now if now.microsecond else now.replace(microsecond=1)


@dataclass(frozen=True)
class LockInfo:
    """The state of an environment's deploy lock."""

    namespace: str
    held: bool
    holder: str | None = None
    message: str | None = None
    acquired_at: datetime | None = None
    expires_at: datetime | None = None


def _info(namespace: str, lease: Any) -> LockInfo:
    spec = lease.spec if lease is not None else None
    if spec is None or not spec.holder_identity:
        return LockInfo(namespace, held=False)
    renewed = spec.renew_time or spec.acquire_time
    expires = None
    if renewed is not None and spec.lease_duration_seconds:
        expires = renewed + timedelta(seconds=spec.lease_duration_seconds)
    held = expires is None or expires > datetime.now(UTC)
    annotations = (lease.metadata.annotations or {}) if lease.metadata else {}
    return LockInfo(
        namespace,
        held=held,
        holder=spec.holder_identity,
        message=annotations.get(MESSAGE_ANNOTATION),
        acquired_at=spec.acquire_time,
        expires_at=expires,
    )


def _leases(namespace: str) -> str:
    return f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"


def _read(api: Any, namespace: str) -> Any | None:
    try:
        return raw.get(api, "read deploy lock", f"{_leases(namespace)}/{LEASE_NAME}")
    except ApiError as e:
        if e.status == 404:
            return None
        raise


def lock_status(api: Any, namespace: str) -> LockInfo:
    """Who holds the lock of a namespace, and until when."""
    return _info(namespace, _read(api, namespace))


def _micro(when: datetime) -> str:
    """A MicroTime: RFC 3339 with exactly six fraction digits (``_now`` keeps them)."""
    return when.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _body(holder: str, message: str, ttl_s: int, current: Any) -> dict[str, Any]:
    now = _micro(_now())
    same = current is not None and current.spec and current.spec.holder_identity == holder
    transitions = 0
    if current is not None and current.spec is not None:
        transitions = (current.spec.lease_transitions or 0) + (0 if same else 1)
    # The holder's own acquireTime goes back as the server wrote it (no re-formatting).
    acquired = current.spec.to_dict().get("acquireTime") if same else now
    meta: dict[str, Any] = {
        "name": LEASE_NAME,
        "annotations": {MESSAGE_ANNOTATION: message},
        "labels": {"app.kubernetes.io/managed-by": "sophia"},
    }
    if current is not None and current.metadata.resource_version:
        meta["resourceVersion"] = current.metadata.resource_version
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": meta,
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": ttl_s,
            "acquireTime": acquired or now,
            "renewTime": now,
            "leaseTransitions": transitions,
        },
    }


def try_acquire(api: Any, namespace: str, holder: str, message: str, ttl_s: int) -> LockInfo:
    """Take (or renew) the lock once; returns the lock as it now stands (held by someone)."""
    current = _read(api, namespace)
    info = _info(namespace, current)
    if info.held and info.holder != holder:
        return info
    body = _body(holder, message, ttl_s, current)
    try:
        if current is None:
            raw.create(api, "create deploy lock", _leases(namespace), body)
        else:
            raw.replace(api, "take deploy lock", f"{_leases(namespace)}/{LEASE_NAME}", body)
    except ApiError as e:
        if e.status == 409:  # someone else won the race: report the winner
            return lock_status(api, namespace)
        raise
    return lock_status(api, namespace)


def acquire(
    api: Any,
    namespace: str,
    holder: str,
    message: str,
    *,
    ttl_s: int,
    wait_s: float = 0.0,
    poll_s: float = 1.0,
    on_wait: Callable[[LockInfo], None] | None = None,
) -> LockInfo:
    """Take the lock, waiting up to ``wait_s`` for its holder; refuse clearly otherwise."""
    deadline = time.monotonic() + wait_s
    while True:
        info = try_acquire(api, namespace, holder, message, ttl_s)
        if info.holder == holder:
            return info
        if time.monotonic() >= deadline:
            until = info.expires_at.isoformat(timespec="seconds") if info.expires_at else "?"
            raise CheckFailed(
                f"deploy lock of {namespace} is held by {info.holder} "
                f"({info.message or 'no message'}) until {until}",
                hint="wait with --lock-wait SECONDS, or `sophia lock release --force` if stale",
            )
        if on_wait is not None:
            on_wait(info)
        time.sleep(poll_s)


def release(api: Any, namespace: str, holder: str | None) -> bool:
    """Drop the lock if ``holder`` holds it (``None``: whoever holds it). True if removed."""
    current = _read(api, namespace)
    if current is None:
        return False
    info = _info(namespace, current)
    if holder is not None and info.held and info.holder != holder:
        raise CheckFailed(
            f"deploy lock of {namespace} is held by {info.holder}, not {holder}",
            hint="use `sophia lock release --force` to break it",
        )
    try:
        raw.delete(api, "release deploy lock", f"{_leases(namespace)}/{LEASE_NAME}")
    except ApiError as e:
        if e.status == 404:
            return False
        raise
    return True


class HeldLock:
    """Holds the lock for a block of work, renewing it in the background; releases at exit.

    Renewal is a read and a replace guarded by ``resourceVersion``. The lock is **lost** when
    the Lease is gone (someone broke it), is another object than the one taken (it was deleted
    and our renewal, racing the delete, created it anew: the API server lets a replace create
    a Lease; that copy is removed again), holds another holder (it lapsed and was taken), or
    could not be renewed before it would expire (an API outage longer than the TTL: another
    deploy may take it then). On loss, :attr:`lost` says why, :attr:`lost_event` is set and
    renewing stops; the work under the lock checks :meth:`why_lost` and stops waiting. A lost
    lock is never released at exit: it is not ours any more.
    """

    def __init__(self, api: Any, namespace: str, holder: str, message: str, ttl_s: int) -> None:
        self.api, self.namespace, self.holder = api, namespace, holder
        self.message, self.ttl_s = message, ttl_s
        self.interval_s = max(1.0, ttl_s / 3)
        self.lost: str | None = None
        self.lost_event = threading.Event()
        self._stop = threading.Event()
        self._valid_until = time.monotonic() + ttl_s
        self._uid: str | None = None  # the Lease we took; another uid is not our lock
        self._thread = threading.Thread(target=self._renew, name="sophia-lock-renew", daemon=True)

    def why_lost(self) -> str | None:
        """Why the lock was lost, or None while it is held."""
        return self.lost

    def _renew(self) -> None:
        wait = self.interval_s
        while not self._stop.wait(wait):
            try:
                reason = self._renew_once()
            except ApiError as e:
                # Retried soon; the lease stays ours until it would expire.
                if time.monotonic() + 1.0 >= self._valid_until:
                    reason = f"it could not be renewed for {self.ttl_s}s ({e.message})"
                else:
                    wait = 1.0
                    continue
            if reason is not None:
                self.lost = reason
                self.lost_event.set()
                return
            wait = self.interval_s

    def _renew_once(self) -> str | None:
        path = f"{_leases(self.namespace)}/{LEASE_NAME}"
        for _ in range(3):  # a 409 means the Lease changed under us: look again
            current = _read(self.api, self.namespace)
            if current is None or current.spec is None:
                return DELETED
            uid = current.metadata.uid if current.metadata is not None else None
            if self._uid is not None and uid != self._uid:
                if current.spec.holder_identity == self.holder and uid:
                    self._drop_recreated(path, uid)
                    return DELETED
                return f"it is now held by {current.spec.holder_identity or 'nobody'}"
            if current.spec.holder_identity != self.holder:
                return f"it is now held by {current.spec.holder_identity or 'nobody'}"
            body = _body(self.holder, self.message, self.ttl_s, current)
            started = time.monotonic()
            try:
                raw.replace(self.api, "renew deploy lock", path, body)
            except ApiError as e:
                if e.status == 409:
                    continue
                if e.status == 404:
                    return DELETED
                raise
            self._valid_until = started + self.ttl_s
            return None
        raise ApiError("renew deploy lock: the Lease keeps changing", status=409)

    def _drop_recreated(self, path: str, uid: str) -> None:
        """Delete the Lease our renewal re-created after a break (only that object, by uid)."""
        try:
            raw.delete(self.api, "remove re-created deploy lock", path, uid=uid)
        except ApiError:
            return  # gone already, or taken meanwhile (409): it lapses or is someone's now

    def _taken_uid(self, current: Any | None) -> str | None:
        """The uid of the Lease we hold (None: not ours, so renewal finds out what happened)."""
        if current is None or current.spec is None or current.metadata is None:
            return None
        return str(current.metadata.uid) if current.spec.holder_identity == self.holder else None

    def __enter__(self) -> HeldLock:
        self._valid_until = time.monotonic() + self.ttl_s
        self._uid = self._taken_uid(_read(self.api, self.namespace))
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self.lost is not None:
            return
        # The lock lapses by itself if the API server is unreachable right now.
        try:
            release(self.api, self.namespace, self.holder)
        except Exception:
            return

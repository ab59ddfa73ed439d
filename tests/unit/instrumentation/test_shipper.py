"""Log shipping never blocks, survives a receiver restart, and counts every record it drops."""

from __future__ import annotations

import socket
import threading
import time

from instrumentation import metrics
from instrumentation.shipper import ForwardShipper
from tests.support.polling import eventually
from tests.support.telemetry_peers import ForwardPeer, free_port
from tests.support.telemetry_setup import telemetry_settings

# The bar: a receiver restart of up to 30 s loses nothing.
RECEIVER_OUTAGE_SECONDS = 30.0


def dropped(reason: str) -> float:
    return metrics.LOG_RECORDS_DROPPED.labels(reason=reason)._value.get()


def test_records_arrive_in_order_in_acked_chunks(forward_peer: ForwardPeer) -> None:
    shipper = ForwardShipper(telemetry_settings(forward_peer, log_batch_records=50), "t.log")
    try:
        for number in range(1000):
            assert shipper.submit({"message": f"record {number}", "n": number})
        assert shipper.flush(10)
    finally:
        shipper.close()
    assert [record["n"] for record in forward_peer.messages()] == list(range(1000))
    assert forward_peer.chunks_acked >= 20
    assert {tag for tag, _ in forward_peer.records} == {"t.log"}


def test_records_trickling_in_share_chunks_and_a_lone_one_still_leaves(
    forward_peer: ForwardPeer,
) -> None:
    """One record every 2 ms (a busy service's log lines): they wait up to the linger for
    each other instead of leaving one chunk (send, ack, receiver's work) each."""
    settings = telemetry_settings(forward_peer, log_linger_seconds=0.3)
    shipper = ForwardShipper(settings, "linger.log")
    try:
        for number in range(40):
            assert shipper.submit({"n": number})
            time.sleep(0.002)  # the pace of the records, not a wait for an outcome
        assert shipper.flush(10)
        assert forward_peer.chunks_acked <= 4, forward_peer.chunks_acked
        acked = forward_peer.chunks_acked
        assert shipper.submit({"n": 40})
        eventually(lambda: len(forward_peer.messages()) == 41, 10, "the lone record shipped")
        assert forward_peer.chunks_acked == acked + 1
    finally:
        shipper.close()
    assert [record["n"] for record in forward_peer.messages()] == list(range(41))


def test_a_receiver_restart_of_thirty_seconds_loses_no_record() -> None:
    """Records flow at a steady rate while the receiver is down for 30 s, then it comes back
    on the same port: every record arrives (none lost, none twice within the steady flow)."""
    peer = ForwardPeer().start()
    shipper = ForwardShipper(telemetry_settings(peer), "restart.log")
    sent = 0
    try:
        for _ in range(100):
            assert shipper.submit({"n": sent})
            sent += 1
        eventually(lambda: len(peer.messages()) == 100, 10, "first records shipped")
        peer.stop()
        outage_ends = time.monotonic() + RECEIVER_OUTAGE_SECONDS
        while time.monotonic() < outage_ends:
            for _ in range(20):  # ~200 records/s: a busy booking worker
                assert shipper.submit({"n": sent}), "a record was refused during the outage"
                sent += 1
            time.sleep(0.1)
        assert shipper.buffered > 0
        peer.start()
        for _ in range(100):
            assert shipper.submit({"n": sent})
            sent += 1
        assert shipper.flush(30), "the buffer was not flushed after the receiver came back"
    finally:
        shipper.close()
        peer.stop()
    received = sorted({record["n"] for record in peer.messages()})
    assert received == list(range(sent)), f"lost {sent - len(received)} of {sent} records"


def test_beyond_the_bound_records_are_dropped_and_every_one_is_counted() -> None:
    shipper = ForwardShipper(
        telemetry_settings(ForwardPeer(port=free_port()), log_buffer_records=100), "full.log"
    )  # nothing listens on that port
    before = dropped("buffer_full")
    try:
        accepted = sum(shipper.submit({"n": n}) for n in range(1000))
    finally:
        shipper.close(timeout=0)
    assert accepted == 100
    assert dropped("buffer_full") - before == 900


def test_the_byte_bound_and_oversized_records_are_counted_too() -> None:
    shipper = ForwardShipper(
        telemetry_settings(
            ForwardPeer(port=free_port()), log_buffer_bytes=10_000, log_record_max_bytes=2_000
        ),
        "bytes.log",
    )
    full_before, large_before = dropped("buffer_full"), dropped("too_large")
    try:
        assert not shipper.submit({"message": "x" * 5_000})
        accepted = sum(shipper.submit({"message": "y" * 900}) for _ in range(50))
    finally:
        shipper.close(timeout=0)
    assert dropped("too_large") - large_before == 1
    assert 5 <= accepted <= 11
    assert dropped("buffer_full") - full_before == 50 - accepted


def test_submit_returns_at_once_while_the_receiver_accepts_but_never_reads_or_acks() -> None:
    """A hung receiver stalls only the shipping thread: the caller's side keeps accepting
    (up to the bound) and the unacked chunk is kept, not lost."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    accepted_connection: list[socket.socket] = []
    threading.Thread(target=lambda: accepted_connection.append(listener.accept()[0])).start()
    settings = telemetry_settings(
        ForwardPeer(port=port), log_buffer_records=5_000, log_ack_timeout_seconds=30
    )
    shipper = ForwardShipper(settings, "hung.log")
    before = dropped("buffer_full")
    try:
        results = [shipper.submit({"n": n, "pad": "z" * 200}) for n in range(20_000)]
        assert sum(results) == 5_000
        assert dropped("buffer_full") - before == 15_000
        assert shipper.buffered == 5_000
    finally:
        shipper.close(timeout=0)
        listener.close()
        for connection in accepted_connection:
            connection.close()


def test_records_logged_in_a_forked_child_are_shipped_by_the_child(
    forward_peer: ForwardPeer,
) -> None:
    import os

    shipper = ForwardShipper(telemetry_settings(forward_peer), "fork.log")
    assert shipper.submit({"who": "parent"})
    assert shipper.flush(10)
    pid = os.fork()
    if pid == 0:  # the child: what gunicorn does to a worker after the app was loaded
        try:
            shipper.submit({"who": "child"})
            os._exit(0 if shipper.flush(10) else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    shipper.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert sorted(record["who"] for record in forward_peer.messages()) == ["child", "parent"]

"""The disk buffer: ids fixed at first acceptance, crash recovery, commits, the bound."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from concurrent.futures import Future
from pathlib import Path

import pytest

from pipeline.buffer import BufferFull, DiskBuffer
from pipeline.bulk_lines import whole_records
from pipeline.settings import PipelineSettings
from pipeline.writer import ElasticsearchWriter

DAY = "logs-a-2026.01.01"


def ids_and_docs(data: bytes) -> list[tuple[str, dict[str, object]]]:
    lines = data.splitlines()
    return [
        (json.loads(lines[i])["index"]["_id"], json.loads(lines[i + 1]))
        for i in range(0, len(lines), 2)
    ]


def test_identical_records_get_two_ids_and_ids_survive_reopening(tmp_path: Path) -> None:
    buffer = DiskBuffer(tmp_path, 1 << 20, 1 << 20)
    buffer.append([("logs-a-2026.01.01", {"m": "same"}), ("logs-a-2026.01.01", {"m": "same"})])
    batch = buffer.next_batch(1 << 20, 100, 0)
    assert batch is not None
    first = ids_and_docs(batch.data)
    assert len({record_id for record_id, _ in first}) == 2
    buffer.close()
    again = DiskBuffer(tmp_path, 1 << 20, 1 << 20).next_batch(1 << 20, 100, 0)
    assert again is not None
    assert ids_and_docs(again.data) == first  # a resend after a crash reuses the same ids


def test_commit_moves_on_and_deletes_finished_segments(tmp_path: Path) -> None:
    buffer = DiskBuffer(tmp_path, segment_max_bytes=100, max_bytes=1 << 20)
    for n in range(5):
        buffer.append([("logs-a-2026.01.01", {"n": n, "pad": "x" * 80})])
    seen = []
    while (batch := buffer.next_batch(1 << 20, 2, 0)) is not None:
        seen += [doc["n"] for _, doc in ids_and_docs(batch.data)]
        buffer.commit(batch)
    assert seen == [0, 1, 2, 3, 4]
    assert buffer.pending_bytes() == 0
    buffer.save_checkpoint()  # the writer does this at most once a second
    assert len(list(tmp_path.glob("segment-*"))) == 1  # only the one being written


def test_an_unsaved_checkpoint_means_a_resend_with_the_same_ids(tmp_path: Path) -> None:
    buffer = DiskBuffer(tmp_path, 1 << 20, 1 << 20)
    buffer.append([(DAY, {"n": 1})])
    buffer.commit(first := buffer.next_batch(1 << 20, 100, 0) or pytest.fail("no batch"))
    buffer.append([(DAY, {"n": 2})])
    buffer.commit(buffer.next_batch(1 << 20, 100, 0) or pytest.fail("no batch"))
    # A crash now (no close): the second commit came within the interval and was not saved.
    again = DiskBuffer(tmp_path, 1 << 20, 1 << 20).next_batch(1 << 20, 100, 0)
    assert again is not None
    assert ids_and_docs(again.data)[0][1] == {"n": 2}
    assert again.start == first.end


def test_a_torn_last_record_is_cut_on_reopening(tmp_path: Path) -> None:
    buffer = DiskBuffer(tmp_path, 1 << 20, 1 << 20)
    buffer.append([("logs-a-2026.01.01", {"n": 1})])
    buffer.close()
    segment = next(tmp_path.glob("segment-*"))
    with segment.open("ab") as file:
        file.write(b'{"index":{"_index":"logs-a-2026.01.01","_id":"x"}}\n{"n": ')
    reopened = DiskBuffer(tmp_path, 1 << 20, 1 << 20)
    batch = reopened.next_batch(1 << 20, 100, 0)
    assert batch is not None
    assert [doc for _, doc in ids_and_docs(batch.data)] == [{"n": 1}]


def test_a_full_buffer_refuses_instead_of_dropping(tmp_path: Path) -> None:
    buffer = DiskBuffer(tmp_path, 1 << 20, max_bytes=200)
    buffer.append([("logs-a-2026.01.01", {"pad": "x" * 300})])
    assert not buffer.has_room()
    with pytest.raises(BufferFull):
        buffer.append([("logs-a-2026.01.01", {"n": 2})])


def test_make_durable_fsyncs_up_to_the_position(tmp_path: Path) -> None:
    buffer = DiskBuffer(tmp_path, 1 << 20, 1 << 20)
    end = buffer.append([("logs-a-2026.01.01", {"n": 1})])
    asyncio.run(buffer.make_durable(end))
    assert buffer.end() == end


def test_invalid_utf8_from_a_sender_is_kept_replaced(tmp_path: Path) -> None:
    buffer = DiskBuffer(tmp_path, 1 << 20, 1 << 20)
    bad = b"caf\xe9".decode("utf-8", "surrogateescape")
    buffer.append([("logs-a-2026.01.01", {"message": bad})])
    batch = buffer.next_batch(1 << 20, 100, 0)
    assert batch is not None
    assert ids_and_docs(batch.data)[0][1] == {"message": "caf\ufffd"}


@pytest.mark.parametrize("max_records", [1, 2, 3, 5, 8, 100])
def test_whole_records_cuts_after_complete_records_and_at_most_max(max_records: int) -> None:
    lines = [b"a" * (n % 7) * 10 + b"\n" for n in range(11)]  # uneven lengths, 5.5 records
    for end in range(len(lines) + 1):
        data = b"".join(lines[:end]) + b"torn"
        records = min(end // 2, max_records)
        assert whole_records(data, max_records) == (len(b"".join(lines[: 2 * records])), records)


def test_writer_sends_a_burst_and_its_rest_at_once_but_holds_a_trickle(tmp_path: Path) -> None:
    """Which batches the writer sends now and which it keeps for the flush interval (no
    Elasticsearch needed: only the choice is checked, with a bulk pretended in flight)."""
    settings = PipelineSettings(
        buffer_dir=tmp_path, bulk_max_documents=80, flush_interval_seconds=60
    )
    buffer = DiskBuffer(tmp_path, 1 << 20, 1 << 20)
    writer = ElasticsearchWriter(settings, buffer)
    out: Future[None] = Future()
    buffer.append([(DAY, {"n": n}) for n in range(40)])  # half a bulk: substantial
    burst = writer.next_batch(deque())
    assert burst is not None
    assert burst.count == 40
    in_flight = deque([(burst, out)])
    buffer.append([(DAY, {"n": 40})])  # the small rest of that burst goes at once
    rest = writer.next_batch(in_flight)
    assert rest is not None
    assert rest.count == 1
    in_flight.append((rest, out))
    buffer.append([(DAY, {"n": 41})])  # small after small: a trickle, kept for more
    assert writer.next_batch(in_flight) is None
    buffer.append([(DAY, {"n": n}) for n in range(42, 60)])  # grown past an eighth: goes
    grown = writer.next_batch(in_flight)
    assert grown is not None
    assert grown.count == 19

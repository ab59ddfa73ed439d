"""Every pipeline metric, defined once; names are documented in docs/pipeline.md for alerting."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

REGISTRY = CollectorRegistry(auto_describe=True)

RECORDS_RECEIVED = Counter(
    "pipeline_records_received_total",
    "Log records and spans decoded from senders, before buffering.",
    ["source"],
    registry=REGISTRY,
)
RECORDS_ACKED = Counter(
    "pipeline_records_acked_total",
    "Records confirmed to a sender after they were fsynced (forward chunk ack, OTLP 200).",
    ["source"],
    registry=REGISTRY,
)
DOCUMENTS_INDEXED = Counter(
    "pipeline_documents_indexed_total",
    "Documents Elasticsearch confirmed (including degraded ones).",
    registry=REGISTRY,
)
DOCUMENTS_DEGRADED = Counter(
    "pipeline_documents_degraded_total",
    "Documents Elasticsearch refused as sent and indexed with core fields plus event.original.",
    registry=REGISTRY,
)
RECORDS_DROPPED = Counter(
    "pipeline_records_dropped_total",
    "Records given up on (written to the dead-letter file); should stay 0.",
    ["reason"],
    registry=REGISTRY,
)
BULK_RETRIES = Counter(
    "pipeline_bulk_retries_total",
    "Bulk requests (or items of one) sent again after a failure.",
    ["reason"],
    registry=REGISTRY,
)
BULK_REQUESTS = Counter(
    "pipeline_bulk_requests_total",
    "Bulk requests sent to Elasticsearch.",
    registry=REGISTRY,
)
BUFFER_BYTES = Gauge(
    "pipeline_buffer_bytes",
    "Bytes on disk waiting to be indexed.",
    registry=REGISTRY,
)
BUFFER_MAX_BYTES = Gauge(
    "pipeline_buffer_max_bytes",
    "The buffer's bound; at it, receivers stop acking and reading.",
    registry=REGISTRY,
)
BACKPRESSURE = Gauge(
    "pipeline_backpressure",
    "1 while the buffer is full and receivers are holding senders back.",
    registry=REGISTRY,
)
CONNECTIONS_CLOSED = Counter(
    "pipeline_connections_closed_total",
    "Forward connections closed by the receiver for bad input.",
    ["reason"],
    registry=REGISTRY,
)
REQUESTS_REJECTED = Counter(
    "pipeline_otlp_requests_rejected_total",
    "OTLP/HTTP requests answered with an error status.",
    ["status"],
    registry=REGISTRY,
)
ELASTICSEARCH_UP = Gauge(
    "pipeline_elasticsearch_up",
    "1 when the last bulk request reached Elasticsearch.",
    registry=REGISTRY,
)
LAST_INDEXED = Gauge(
    "pipeline_last_indexed_timestamp_seconds",
    "Unix time of the last successful bulk request.",
    registry=REGISTRY,
)
INDICES_DELETED = Counter(
    "pipeline_retention_indices_deleted_total",
    "Daily indices deleted by the retention sweep.",
    registry=REGISTRY,
)

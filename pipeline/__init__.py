"""Getting telemetry into Elasticsearch: forward-protocol logs and OTLP traces, nothing lost.

Receivers (forward protocol, OTLP/HTTP) turn input into Elasticsearch bulk lines and append them
to a disk buffer before answering; a writer thread indexes the buffer with stable document ids.
"""

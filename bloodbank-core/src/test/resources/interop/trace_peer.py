#!/usr/bin/env python3
"""A traced Python Bloodbank service without OpenTelemetry: pika and a hand-built W3C traceparent.

Used by PythonTraceIT. It carries a trace the way OpenTelemetry's pika instrumentation does, in the
string header "traceparent" ("00-<32 hex trace id>-<16 hex span id>-<2 hex flags>"). Every line
printed is one fact for the test:

  reply QUEUE EXCHANGE KEY    takes one delivery from QUEUE and checks its traceparent ("GOT <event
                              id> <traceparent>", or "BAD <why>" and exit 2); then publishes a KEY
                              event caused by it in the same trace, as a child span of the
                              delivery's ("SENT <event id> <traceparent>")
  origin EXCHANGE KEY         starts a trace: publishes one KEY event with a new traceparent
                              ("SENT <event id> <traceparent>")
"""
import json
import re
import secrets
import sys
import uuid
from datetime import datetime, timezone

import pika

URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def say(*words):
    print(*words, flush=True)


def new_id(hex_digits):
    while True:
        value = secrets.token_hex(hex_digits // 2)
        if value.strip("0"):  # all zeros is invalid
            return value


def check(traceparent):
    """The trace id of a valid version-00 traceparent; raises ValueError otherwise."""
    if isinstance(traceparent, bytes):
        traceparent = traceparent.decode("ascii")
    if not isinstance(traceparent, str):
        raise ValueError("traceparent is a %s, not a string" % type(traceparent).__name__)
    m = TRACEPARENT.match(traceparent)
    if not m:
        raise ValueError("not W3C: %r" % traceparent)
    version, trace_id, span_id, _flags = m.groups()
    if version != "00":
        raise ValueError("version %s" % version)
    if not trace_id.strip("0") or not span_id.strip("0"):
        raise ValueError("all-zero id in %s" % traceparent)
    return trace_id, span_id


def envelope(key, event_id, parents, payload):
    # The Python library's v2 EventEnvelope, model_dump(mode="json")
    return {"event_id": event_id, "event_type": key,
            "timestamp": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
            "version": "1.0.0",
            "source": {"host": "py-host", "type": "manual", "app": "py-trace-peer", "meta": None},
            "correlation_ids": parents, "agent_context": None, "payload": payload}


def publish(ch, exchange, key, parents, traceparent, payload):
    event_id = str(uuid.uuid4())
    body = json.dumps(envelope(key, event_id, parents, payload)).encode()
    ch.basic_publish(exchange, key, body, pika.BasicProperties(
        delivery_mode=2, message_id=event_id, content_type="application/json",
        content_encoding="utf-8", headers={"traceparent": traceparent}), mandatory=True)
    say("SENT", event_id, traceparent)


def reply(queue, exchange, key):
    conn = pika.BlockingConnection(pika.URLParameters(URL))
    ch = conn.channel()
    ch.confirm_delivery()
    for method, props, body in ch.consume(queue, inactivity_timeout=30):
        if method is None:
            say("BAD nothing arrived in 30 s")
            sys.exit(2)
        ch.basic_ack(method.delivery_tag)
        env = json.loads(body)
        headers = props.headers or {}
        try:
            trace_id, _parent = check(headers.get("traceparent"))
        except ValueError as e:
            say("BAD", e)
            sys.exit(2)
        tp = headers["traceparent"]
        say("GOT", env["event_id"], tp.decode() if isinstance(tp, bytes) else tp)
        # This service's span: same trace, a span id of its own, sampled.
        publish(ch, exchange, key, [env["event_id"]], "00-%s-%s-01" % (trace_id, new_id(16)),
                {"answer": env["payload"]})
        break
    ch.cancel()
    conn.close()


def origin(exchange, key):
    conn = pika.BlockingConnection(pika.URLParameters(URL))
    ch = conn.channel()
    ch.confirm_delivery()
    publish(ch, exchange, key, [], "00-%s-%s-01" % (new_id(32), new_id(16)), {"from": "python"})
    conn.close()


def main(argv):
    cmd = argv[1]
    if cmd == "reply":
        reply(argv[2], argv[3], argv[4])
    elif cmd == "origin":
        origin(argv[2], argv[3])
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)

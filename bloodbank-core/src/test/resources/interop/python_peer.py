#!/usr/bin/env python3
"""A Python Bloodbank service, as the Python library and its guides write one (pika, redis).

Used by PythonInteropIT. One subcommand per role; every line printed is one fact for the test:

  declare EXCHANGE QUEUE PATTERN DLX       the queue the Python way: durable, x-dead-letter-exchange
                                           DLX and x-message-ttl 300000; DLX (topic) with QUEUE.dead
                                           bound '#'
  declare-plain EXCHANGE QUEUE PATTERN     durable, no arguments (the library's Consumer)
  publish EXCHANGE KEY N v1|v2 [ID...]     N events (or the given ids), prints "SENT <id>"
  consume QUEUE N [dedup]                  takes N deliveries, prints "GOT <version> <id> <fields>";
                                           with dedup, the guide's processed:{event_id} pattern, and
                                           prints "SKIP <id>" for repeats
  commands QUEUE SECONDS                   a command processor: acks each command, "RAN <id>"
  check-v1 / check-v2 QUEUE N              reads N Java events and checks them against the shape
                                           the Python models read, "OK <id>" or "BAD <id> <why>"
"""
import json
import sys
import time
import uuid
from datetime import datetime, timezone

import pika

URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def channel():
    conn = pika.BlockingConnection(pika.URLParameters(URL))
    return conn, conn.channel()


def say(*words):
    print(*words, flush=True)


def envelope(version, key, event_id, n):
    now = datetime.now(timezone.utc)
    if version == "v1":
        # bloodbank@380cfd1 events.py EventEnvelope, model_dump() through orjson: "+00:00"
        return {"id": event_id, "ts": now.isoformat(), "event_type": key,
                "source": "http/127.0.0.1", "project": None, "working_dir": None,
                "domain": None, "correlation_id": None, "tags": [],
                "data": {"provider": "openai", "model": None, "prompt": "p%d" % n}}
    # v2, model_dump(mode="json"): "Z"
    return {"event_id": event_id, "event_type": key,
            "timestamp": now.isoformat().replace("+00:00", "Z"), "version": "1.0.0",
            "source": {"host": "py-host", "type": "manual", "app": "py-peer", "meta": None},
            "correlation_ids": [], "agent_context": None,
            "payload": {"provider": "openai", "model": None, "prompt": "p%d" % n}}


def declare(exchange, queue, pattern, dlx=None):
    conn, ch = channel()
    ch.exchange_declare(exchange, "topic", durable=True)
    args = None
    if dlx:
        ch.exchange_declare(dlx, "topic", durable=True)
        ch.queue_declare(queue + ".dead", durable=True)
        ch.queue_bind(queue + ".dead", dlx, "#")
        args = {"x-dead-letter-exchange": dlx, "x-message-ttl": 300000}
    ch.queue_declare(queue, durable=True, arguments=args)
    ch.queue_bind(queue, exchange, pattern)
    conn.close()
    say("DECLARED", queue)


def publish(exchange, key, n, version, ids):
    conn, ch = channel()
    ch.confirm_delivery()
    ids = ids or [str(uuid.uuid4()) for _ in range(n)]
    for i, event_id in enumerate(ids):
        body = json.dumps(envelope(version, key, event_id, i)).encode()
        ch.basic_publish(exchange, key, body, pika.BasicProperties(
            delivery_mode=2, message_id=event_id, content_type="application/json",
            content_encoding="utf-8"), mandatory=True)
        say("SENT", event_id)
    conn.close()


def consume(queue, n, dedup):
    r = None
    if dedup:
        import redis
        r = redis.Redis(host="127.0.0.1", port=6379)
    conn, ch = channel()
    ch.basic_qos(prefetch_count=1)
    got = 0
    for method, props, body in ch.consume(queue, inactivity_timeout=20):
        if method is None:
            break
        env = json.loads(body)
        version = "v2" if "event_id" in env else "v1"
        event_id = env.get("event_id") or env.get("id")
        if r is not None:
            # The guide's IdempotentConsumer: EXISTS, process, SETEX 24 h "1", ack.
            key = "processed:%s" % event_id
            if r.exists(key):
                say("SKIP", event_id)
                ch.basic_ack(method.delivery_tag)
                got += 1
                if got >= n:
                    break
                continue
            r.setex(key, 86400, "1")
        say("GOT", version, event_id)
        ch.basic_ack(method.delivery_tag)
        got += 1
        if got >= n:
            break
    ch.cancel()
    conn.close()


def commands(queue, seconds):
    conn, ch = channel()
    ch.basic_qos(prefetch_count=10)
    end = time.time() + seconds
    for method, props, body in ch.consume(queue, inactivity_timeout=1):
        if method is not None:
            env = json.loads(body)
            time.sleep(0.01)  # the work
            say("RAN", env["event_id"])
            ch.basic_ack(method.delivery_tag)
        if time.time() > end:
            break
    ch.cancel()
    conn.close()


def check(version, queue, n):
    conn, ch = channel()
    seen = 0
    for method, props, body in ch.consume(queue, inactivity_timeout=20):
        if method is None:
            break
        env = json.loads(body)
        try:
            if version == "v1":
                # what bloodbank@380cfd1's EventEnvelope needs: id, ts, event_type, source str, data
                event_id = str(uuid.UUID(env["id"]))
                datetime.fromisoformat(env["ts"].replace("Z", "+00:00"))
                assert isinstance(env["source"], str), "source is not a string"
                assert isinstance(env["data"], dict), "data is not an object"
                assert env["event_type"], "no event_type"
                if env.get("correlation_id") is not None:
                    uuid.UUID(env["correlation_id"])
            else:
                event_id = str(uuid.UUID(env["event_id"]))
                datetime.fromisoformat(env["timestamp"].replace("Z", "+00:00"))
                src = env["source"]
                assert isinstance(src, dict) and src["host"] and src["type"], "bad source"
                assert isinstance(env["correlation_ids"], list), "correlation_ids"
                assert isinstance(env["payload"], dict), "payload"
                assert props.message_id == event_id, "message_id"
            say("OK", event_id)
        except Exception as e:  # noqa: BLE001 - reported to the test
            say("BAD", env.get("id") or env.get("event_id"), repr(e))
        ch.basic_ack(method.delivery_tag)
        seen += 1
        if seen >= n:
            break
    ch.cancel()
    conn.close()


def main(argv):
    cmd = argv[1]
    if cmd == "declare":
        declare(argv[2], argv[3], argv[4], argv[5])
    elif cmd == "declare-plain":
        declare(argv[2], argv[3], argv[4])
    elif cmd == "publish":
        publish(argv[2], argv[3], int(argv[4]), argv[5], argv[6:])
    elif cmd == "consume":
        consume(argv[2], int(argv[3]), len(argv) > 4 and argv[4] == "dedup")
    elif cmd == "commands":
        commands(argv[2], float(argv[3]))
    elif cmd in ("check-v1", "check-v2"):
        check(cmd[-2:], argv[2], int(argv[3]))
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)

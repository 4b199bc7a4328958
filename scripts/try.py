#!/usr/bin/env python3
"""A first conversation with rkllm-server: loads models/demo.rkllm and streams the reply.

    python3 scripts/try.py "hello world" [--socket /tmp/rkllm.sock] [--model demo.rkllm]
"""
import argparse
import json
import os
import socket
import sys

parser = argparse.ArgumentParser()
parser.add_argument("prompt", nargs="?", default="hello world")
parser.add_argument("--socket", default=os.environ.get("RKLLM_UDS_PATH", "/tmp/rkllm.sock"))
parser.add_argument("--model", default="demo.rkllm")
args = parser.parse_args()

connection = socket.socket(socket.AF_UNIX)
try:
    connection.connect(args.socket)
except (FileNotFoundError, ConnectionRefusedError):  # one line and rkllm's exit statuses, no traceback
    print(f"try.py: rkllm-server is not running: nothing listens on {args.socket} (./scripts/run.sh starts it)",
          file=sys.stderr)
    sys.exit(3)
except PermissionError:
    print(f"try.py: not permitted to use {args.socket} (the socket's group may connect)", file=sys.stderr)
    sys.exit(4)
replies = connection.makefile("rb")


def request(id, method, params):
    connection.sendall((json.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params}) + "\n").encode())


request(1, "rkllm.init", {"param": {"model_path": args.model}})
answer = json.loads(replies.readline())
while "_loading" in answer.get("result", {}):  # a model that takes long to load says so
    print(f"(loading: {answer['result']['_loading']['elapsed_s']} s)", file=sys.stderr)
    answer = json.loads(replies.readline())
if "error" in answer:
    sys.exit(f"rkllm.init: {answer['error']['message']}")
request(2, "rkllm.run", {"handle": answer["result"]["handle"],
                         "rkllm_input": {"role": "user", "prompt_input": args.prompt}})
while True:
    message = json.loads(replies.readline())
    if "error" in message:
        sys.exit(f"\nrkllm.run: {message['error']['message']}")
    result = message["result"]
    if "_queue_position" in result:
        print(f"(waiting: {result['_queue_position']} ahead)", file=sys.stderr)
        continue
    print(result.get("text", ""), end="", flush=True)
    if "_ended" in result:
        perf = result.get("perf", {})
        print(f"\n({perf.get('generate_tokens')} tokens in {perf.get('generate_time_ms', 0):.0f} ms)", file=sys.stderr)
        break

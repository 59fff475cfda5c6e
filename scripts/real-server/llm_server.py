#!/usr/bin/env python3
"""Serve one GGUF model over llama.cpp's OpenAI-compatible HTTP server (the `xllamacpp` wheel).

Used by `cargo xtask integration --real`. xllamacpp is a library, not a command: this launcher
builds its `CommonParams`, starts `xllamacpp.Server` on 127.0.0.1 and stays alive until SIGTERM
or SIGINT (or until the process that started it goes away), then exits promptly.

With `--watch-stdin` it also stops when its standard input reaches end-of-file: the parent
holds the write end of a pipe, so the server goes away with the parent however the parent ends
(even SIGKILL), and closing the pipe is a graceful stop request that needs no signal.

The API key, when wanted, comes from an environment variable (never the command line, so it
does not show in `ps`): `--api-key-env NAME` makes every route except /health and /v1/models
require `Authorization: Bearer <key>`.

Exit codes: 0 after a signal, 2 for bad arguments, 3 when the port is taken, 4 when the
server fails to start.
"""

import argparse
import os
import signal
import socket
import sys
import threading
import time


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="path to the .gguf file")
    parser.add_argument("--port", required=True, type=int, help="TCP port on 127.0.0.1")
    parser.add_argument("--alias", default="gemma-3-270m", help="model id /v1/models reports")
    parser.add_argument("--ctx", type=int, default=4096, help="total context (split over slots)")
    parser.add_argument("--parallel", type=int, default=2, help="concurrent slots")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument(
        "--api-key-env",
        default=None,
        help="name of an environment variable holding the API key to require",
    )
    parser.add_argument(
        "--no-embeddings", action="store_true", help="do not serve /v1/embeddings"
    )
    parser.add_argument(
        "--watch-stdin",
        action="store_true",
        help="stop when standard input reaches end-of-file (the parent closed the pipe)",
    )
    return parser.parse_args(argv)


def port_is_free(port):
    """True when nothing listens on 127.0.0.1:port.

    SO_REUSEADDR makes the bind succeed over connections lingering in TIME_WAIT (a server that
    just stopped) but still fail while another socket listens there.
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen(1)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def build_params(xllamacpp, args, api_key):
    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_ctx = args.ctx
    params.n_parallel = args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    # Must be a set: a list (or a plain string) makes /v1/models report the id "-".
    params.model_alias = {args.alias}
    if not args.no_embeddings:
        params.embedding = True
        params.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
    if api_key:
        params.api_keys = [api_key]
    return params


def watch_stdin(stop):
    """Sets `stop` once standard input reaches end-of-file (or fails)."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    print("llm_server: stdin closed, stopping", file=sys.stderr, flush=True)
    stop.set()


def main(argv):
    args = parse_args(argv)
    if not os.path.isfile(args.model):
        print(f"llm_server: model file not found: {args.model}", file=sys.stderr)
        return 2
    if not 0 < args.port < 65536:
        print(f"llm_server: bad port {args.port}", file=sys.stderr)
        return 2
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env, "")
        if not api_key:
            print(f"llm_server: ${args.api_key_env} is empty", file=sys.stderr)
            return 2
    if not port_is_free(args.port):
        print(f"llm_server: 127.0.0.1:{args.port} is already in use", file=sys.stderr)
        return 3

    stop = threading.Event()

    def on_signal(signum, _frame):
        print(f"llm_server: signal {signum}, stopping", file=sys.stderr, flush=True)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    parent = os.getppid()
    if args.watch_stdin:
        threading.Thread(target=watch_stdin, args=(stop,), daemon=True).start()

    import xllamacpp  # imported late so argument errors are fast

    started = time.monotonic()
    try:
        server = xllamacpp.Server(build_params(xllamacpp, args, api_key))
    except Exception as err:  # the wheel raises RuntimeError and friends
        print(f"llm_server: server failed to start: {err}", file=sys.stderr, flush=True)
        return 4
    print(
        f"llm_server: listening on http://127.0.0.1:{args.port} "
        f"(model {args.alias}, {args.parallel} slots, ctx {args.ctx}, "
        f"auth {'on' if api_key else 'off'}, started in {time.monotonic() - started:.2f} s)",
        file=sys.stderr,
        flush=True,
    )

    # Wait for a signal; also stop if the process that started us is gone (re-parented).
    while not stop.wait(0.5):
        if os.getppid() != parent:
            print("llm_server: parent exited, stopping", file=sys.stderr, flush=True)
            break
    del server
    sys.stderr.flush()
    sys.stdout.flush()
    # The C++ server's threads may still be parked in accept(): skip interpreter teardown.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

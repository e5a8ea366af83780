#!/usr/bin/env python3
"""Start moto's server on a free loopback port, print the port, serve until
stdin closes. Used by tests/emulator/with-moto; needs moto in this python3."""
import logging
import sys

try:
    from moto.server import ThreadedMotoServer
except ImportError:
    sys.stderr.write("moto is not installed in this python3 (python3 -c 'import moto' fails); "
                     "the AWS emulator tests need it\n")
    sys.exit(3)

logging.getLogger("werkzeug").setLevel(logging.ERROR)
# No Docker here: Lambda Invoke answers without running the function (moto's
# simple Lambda backend), so tests can check that a function was invoked.
from moto.core.config import default_user_config  # noqa: E402
default_user_config["lambda"]["use_docker"] = False
# AWS managed policies (AWSDenyAll, which quarantine-user attaches) exist
# as in AWS; each account's IAM loads them on first use.
default_user_config["iam"]["load_aws_managed_policies"] = True
# One request at a time. DynamoDB's conditional writes are atomic; moto's
# threaded server checks a condition and writes without a lock, so two
# concurrent conditional writes can both pass (the store's conformance suite
# and the concurrent-detector test caught it). Serialising the requests
# gives the emulator DynamoDB's atomicity; the GIL serialised moto's work
# anyway, so it costs nothing measurable.
import threading  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication  # noqa: E402
_serve, _one_at_a_time = DomainDispatcherApplication.__call__, threading.Lock()


def _serialised(self, environ, start_response):
    with _one_at_a_time:
        return list(_serve(self, environ, start_response))


DomainDispatcherApplication.__call__ = _serialised
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
out, sys.stdout = sys.stdout, sys.stderr  # start() talks on stdout
server.start()
sys.stdout = out
host, port = server.get_host_and_port()
print(f"PORT={port}", flush=True)
try:
    sys.stdin.read()
finally:
    server.stop()

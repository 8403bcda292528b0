"""Benchmark trees: a parse-bound federated app, one whose messages are objects, and the standard
library with the seed app.

Both are generated from code in this file (nothing downloaded), so anyone can
rebuild them: `python benchmarks/trees.py parse-bound OUT` or `... stdlib OUT`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED_APP = REPO / "tests" / "fixtures" / "seed" / "bug"

_MESSAGES = '''"""Message names of package {package}."""

from enum import Enum

SHUTDOWN_{n} = "SHUTDOWN_{n}"
PREFIX_{n} = "pkg{n}"


class Kind{n}(str, Enum):
    TRAIN = "train_{n}"
    EVALUATE = "evaluate_{n}"
    STATUS = "status_{n}"
'''

_CONNECTION = '''"""Routing wrappers of package {package}."""


class Connection{n}:
    def __init__(self, communication_manager):
        self.communication_manager = communication_manager
        self.routes = {{}}

    async def route_message(self, source, target, message_type, data):
        routed_target = self.routes.get(target, target)
        return await self.communication_manager.send_business_message(routed_target, message_type, data)

    async def send_to_client(self, client_id, message_type, data):
        return await self.route_message("server", client_id, message_type, data)

    async def broadcast(self, targets, message_type, data):
        for target in targets:
            await self.communication_manager.send_control_message(target, message_type, data)
'''

_SERVER = '''"""Server {i} of package {package}."""

from .connection import Connection{n}
from .messages import PREFIX_{n}, SHUTDOWN_{n}, Kind{n}


class Server{n}_{i}:
    def __init__(self, comm):
        self.comm = comm
        self.connection = Connection{n}(comm)
        self.clients = []
        self.history = []

    async def run_round(self, number):
        results = []
        for client_id in self.clients:
            result = await self.connection.send_to_client(client_id, Kind{n}.TRAIN, {{"round": number}})
            results.append(result)
            self.history.append((number, client_id, result))
        await self.connection.broadcast(self.clients, f"{{PREFIX_{n}}}.round_{i}", {{"round": number}})
        return sum(r["value"] for r in results) / max(len(results), 1)

    async def evaluate(self):
        scores = {{}}
        for client_id in self.clients:
            scores[client_id] = await self.comm.send_business_message(client_id, Kind{n}.EVALUATE.value, {{}})
        return scores

    async def shutdown(self):
        for client_id in self.clients:
            await self.connection.route_message("server", client_id, SHUTDOWN_{n}, {{"reason": "done"}})
'''

_CLIENT = '''"""Client {i} of package {package}."""

from . import messages
from .messages import SHUTDOWN_{n}


class Client{n}_{i}:
    def __init__(self, client_id, comm, transport):
        self.client_id = client_id
        self.comm = comm
        self.value = 0.0
        comm.register_message_handler(SHUTDOWN_{n}, self.on_shutdown)
        comm.register_message_handler(messages.Kind{n}.TRAIN, self.on_train)
        comm.register_message_handler(messages.Kind{n}.EVALUATE, self.on_evaluate)
        transport.register_event_listener(client_id, messages.PREFIX_{n} + ".round_{i}", self.on_round)

    async def on_shutdown(self, source, data):
        return {{"acknowledged": True}}

    async def on_train(self, source, data):
        self.value = (self.value + data["round"]) / 2
        return {{"value": self.value}}

    async def on_evaluate(self, source, data):
        return {{"accuracy": min(1.0, self.value / 10)}}

    async def on_round(self, data):
        self.round = data["round"]
'''


def build_parse_bound(out: Path, modules: int = 2000) -> Path:
    """`modules` modules (plus one `__init__.py` per package of 10): messages, wrappers, servers, clients."""
    if out.exists():
        shutil.rmtree(out)
    per_package = 10  # messages, connection, 4 servers, 4 clients (and the package's __init__.py)
    for n in range(max(1, modules // per_package)):
        package = out / f"fedapp{n}"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "messages.py").write_text(_MESSAGES.format(package=package.name, n=n))
        (package / "connection.py").write_text(_CONNECTION.format(package=package.name, n=n))
        for i in range(4):
            (package / f"server{i}.py").write_text(_SERVER.format(package=package.name, n=n, i=i))
            (package / f"client{i}.py").write_text(_CLIENT.format(package=package.name, n=n, i=i))
    return out


_ENVELOPE_PACK = """[pack]
name = "objects"
description = "Message objects built by managers, sent whole."

[mechanisms.rpc]
title = "Messages"
description = "A manager's Message, dispatched by type to the handler registered for it."
handler_args = ["msg_params"]

[[envelopes]]
class = "Message"
message_type = { position = 0, keyword = "msg_type" }
setter = { name = "set_type", position = 0 }

[[calls]]
name = "send_message"
role = "send"
mechanism = "rpc"
message = { position = 0, keyword = "message" }

[[calls]]
name = "register_message_receive_handler"
role = "handle"
mechanism = "rpc"
message_type = { position = 0, keyword = "msg_type" }
handler = { position = 1, keyword = "handler" }
"""

_ENVELOPE_DEFINE = '''"""Messages of algorithm {n}."""


class Message:
    def __init__(self, msg_type=None, sender=None, receiver=None):
        self.type = msg_type
        self.params = {{}}

    def set_type(self, msg_type):
        self.type = msg_type

    def add_params(self, key, value):
        self.params[key] = value


class MyMessage{n}:
    S2C_INIT = 1
    S2C_SYNC = 2
    S2C_FINISH = 3
    C2S_MODEL = 4
'''

_ENVELOPE_SERVER = '''"""Server {i} of algorithm {n}: messages built in one method, sent in another."""

from .define import Message, MyMessage{n}


class Server{n}_{i}:
    def __init__(self, comm):
        self.comm = comm
        self.register_message_receive_handler(MyMessage{n}.C2S_MODEL, self.handle_model)

    def _sync(self, receiver, weights):
        message = Message(MyMessage{n}.S2C_SYNC, 0, receiver)
        message.add_params("weights", weights)
        return message

    def init_clients(self, clients):
        for client in clients:
            message = Message()
            message.set_type(MyMessage{n}.S2C_INIT)
            self.send_message(message)

    def handle_model(self, msg_params):
        self.send_message(self._sync(msg_params["sender"], msg_params["weights"]))

    def prepare_finish(self, receiver):
        self.finish_msg = Message(MyMessage{n}.S2C_FINISH, 0, receiver)

    def finish(self):
        self.send_message(self.finish_msg)

    def send_message(self, message):
        self.comm.send_message(message)

    def register_message_receive_handler(self, msg_type, handler):
        self.comm.register_message_receive_handler(msg_type, handler)
'''

_ENVELOPE_CLIENT = '''"""Client {i} of algorithm {n}: replies through a helper that sends."""

from .define import Message, MyMessage{n}


class Client{n}_{i}:
    def __init__(self, comm, rank):
        self.comm = comm
        self.rank = rank
        comm.register_message_receive_handler(MyMessage{n}.S2C_INIT, self.handle_init)
        comm.register_message_receive_handler(MyMessage{n}.S2C_SYNC, self.handle_sync)
        comm.register_message_receive_handler(MyMessage{n}.S2C_FINISH, self.handle_finish)

    def handle_init(self, msg_params):
        return self.train(msg_params)

    def handle_sync(self, msg_params):
        return self.train(msg_params)

    def handle_finish(self, msg_params):
        self.done = True

    def train(self, msg_params):
        reply = Message(MyMessage{n}.C2S_MODEL, self.rank, 0)
        reply.add_params("weights", [0.0])
        return self._send_impl(0, reply)

    def _send_impl(self, receiver, message):
        self.comm.send_message(message)
'''


def build_envelopes(out: Path, modules: int = 2000) -> Path:
    """`modules` modules of algorithms whose messages are objects built in one function and sent in
    another (`objects.toml` beside them declares the envelope): a definitions module, 4 servers and
    5 clients per algorithm."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / "objects.toml").write_text(_ENVELOPE_PACK)
    (out / "pyproject.toml").write_text('[tool.fedcl-lint]\nrules = ["objects.toml"]\n')
    for n in range(max(1, modules // 10)):
        package = out / f"algo{n}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "define.py").write_text(_ENVELOPE_DEFINE.format(n=n))
        for i in range(4):
            (package / f"server{i}.py").write_text(_ENVELOPE_SERVER.format(n=n, i=i))
        for i in range(5):
            (package / f"client{i}.py").write_text(_ENVELOPE_CLIENT.format(n=n, i=i))
    return out


def build_stdlib(out: Path) -> Path:
    """The interpreter's standard library (no site-packages) plus the seed app."""
    if out.exists():
        shutil.rmtree(out)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    shutil.copytree(stdlib, out / "stdlib", ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"),
                    symlinks=True)
    shutil.copytree(SEED_APP, out / "seed")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["parse-bound", "envelopes", "stdlib"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--modules", type=int, default=2000)
    args = parser.parse_args()
    if args.kind == "parse-bound":
        build_parse_bound(args.out, args.modules)
    elif args.kind == "envelopes":
        build_envelopes(args.out, args.modules)
    else:
        build_stdlib(args.out)
    print(f"built {args.kind} tree in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

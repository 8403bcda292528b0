"""The gRPC transport behaves as the memory transport: the same scenarios on both, the same answers and errors.

Each scenario runs on one transport of each kind; on the gRPC one every node serves on its own port of
127.0.0.1 and every message crosses the loopback network, even between nodes of one transport. Then
what only a network has: two transports that learn where each other's nodes are, a peer that goes away,
what may and may not cross the wire. Processes are tested in test_runtime_processes.py.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fedcl_lint.runtime import (
    CLIENT_REGISTERED,
    HEARTBEAT,
    REGISTRATION,
    SHUTDOWN,
    TRAIN,
    Client,
    CommunicationManager,
    DeadLetter,
    MechanismMismatchError,
    MemoryTransport,
    RemoteHandlerError,
    RpcTimeoutError,
    Server,
    TracedMessage,
    UndeliveredEventError,
    UnhandledMessageError,
    UnknownNodeError,
    run_federation,
    wire,
)
from fedcl_lint.runtime.errors import NodeUnavailableError, RemoteException, TransportError, exception_name
from fedcl_lint.runtime.grpc_transport import RPC_METHOD, GrpcTransport, loopback_address
from fedcl_lint.runtime.transport import TransportBase

TEST_TIMEOUT = 15.0

Scenario = Callable[[TransportBase], Awaitable[Any]]


@pytest.fixture(params=["memory", "grpc"])
def on_each_transport(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``on_each_transport(scenario, **options)``: run ``scenario(transport)`` on a fresh transport, bounded."""

    def run(scenario: Scenario, **options: Any) -> Any:
        async def bounded() -> Any:
            transport: TransportBase = (
                MemoryTransport(**options) if request.param == "memory" else GrpcTransport(**options)
            )
            async with transport:
                return await scenario(transport)

        return asyncio.run(asyncio.wait_for(bounded(), TEST_TIMEOUT))

    return run


def run(coro: Awaitable[Any], timeout: float = TEST_TIMEOUT) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


async def echo(source: str, data: Any) -> Any:
    return {"from": source, "echo": data}


# ------------------------------------------------------------------- same semantics


def test_a_federation_trains_with_exact_averages_and_records_the_runtime_protocol(on_each_transport) -> None:
    async def scenario(transport: TransportBase) -> tuple[Any, list[Client], frozenset[tuple[str, str, str]]]:
        server = Server(transport, "server")
        clients = [Client(transport, f"client_{i}", local_value=float(i)) for i in range(8)]
        result = await run_federation(server, clients, rounds=3)
        assert server.manager.heartbeats == {f"client_{i}": 1 for i in range(8)}
        return result, clients, transport.recorded_protocol

    result, clients, protocol = on_each_transport(scenario)
    # local values 0..7: mean 3.5, so 1.75, 2.625, 3.0625
    assert result.round_averages == (1.75, 2.625, 3.0625)
    assert result.announcements_delivered == 8
    assert sorted(result.acknowledged) == [f"client_{i}" for i in range(8)]
    assert result.missing == ()
    assert all(client.rounds_trained == [1, 2, 3] and client.shutdown_received for client in clients)
    assert all(sorted(client.federation) == [f"client_{i}" for i in range(8)] for client in clients)
    rpc_types = {REGISTRATION, HEARTBEAT, TRAIN, SHUTDOWN}
    expected = {(t, "rpc", role) for t in rpc_types for role in ("send", "handle")}
    expected |= {(CLIENT_REGISTERED, "event", "send"), (CLIENT_REGISTERED, "event", "handle")}
    assert protocol == frozenset(expected)


def test_rpc_answers_and_the_trace(on_each_transport) -> None:
    async def scenario(transport: TransportBase) -> tuple[Any, Any, list[TracedMessage]]:
        trace: list[TracedMessage] = []
        transport.add_observer(trace.append)
        a = CommunicationManager(transport, "a")
        b = CommunicationManager(transport, "b")
        b.register_message_handler("echo", echo)
        reply = await a.send_business_message("b", "echo", {"x": [1, 2.5, None, "é"]})
        registration = await a.send_business_message("b", REGISTRATION, {"gpu": False})
        assert b.registered_clients == ("a",)
        return reply, registration, trace

    reply, registration, trace = on_each_transport(scenario)
    assert reply == {"from": "a", "echo": {"x": [1, 2.5, None, "é"]}}
    assert registration == {
        "accepted": True, "node_id": "b", "client_id": "a", "already_registered": False, "client_count": 1
    }
    assert trace == [TracedMessage("rpc", "a", "b", "echo"), TracedMessage("rpc", "a", "b", REGISTRATION)]


def test_the_guard_raises_on_the_sender_in_both_directions(on_each_transport) -> None:
    async def scenario(transport: TransportBase) -> list[str]:
        server = CommunicationManager(transport, "server")
        client = CommunicationManager(transport, "client_1")
        client.register_message_handler(SHUTDOWN, echo)
        client.register_event_listener("client_1", "CLIENT_DISCONNECTED", lambda data: asyncio.sleep(0))
        messages = []
        with pytest.raises(MechanismMismatchError) as as_event:
            await server.send_control_message("client_1", SHUTDOWN, {"reason": "done"})
        assert (as_event.value.used, as_event.value.registered, as_event.value.node_id) == ("event", "rpc", "client_1")
        messages.append(str(as_event.value))
        with pytest.raises(MechanismMismatchError) as as_rpc:
            await server.send_business_message("client_1", "CLIENT_DISCONNECTED", None)
        messages.append(str(as_rpc.value))
        assert transport.dead_letters == []  # a sender's bug is raised, not filed as a lost event
        return messages

    assert on_each_transport(scenario) == [
        "SHUTDOWN was sent as an event to client_1, which registered it only as an rpc handler "
        "(register_message_handler); send it with send_business_message, or register an event listener",
        "CLIENT_DISCONNECTED was sent as an rpc to client_1, which registered it only as an event listener "
        "(register_event_listener); send it with send_control_message, or register an rpc handler "
        "(register_message_handler)",
    ]


def test_unknown_nodes_and_unhandled_types_fail_with_the_same_messages(on_each_transport) -> None:
    async def scenario(transport: TransportBase) -> list[str]:
        server = CommunicationManager(transport, "server")
        CommunicationManager(transport, "client_1")
        messages = []
        with pytest.raises(UnknownNodeError) as unknown:
            await server.send_business_message("client_9", SHUTDOWN, {})
        messages.append(str(unknown.value))
        with pytest.raises(UnhandledMessageError) as unhandled:
            await server.send_business_message("client_1", "unknown_type", None)
        assert unhandled.value.handled == ("heartbeat", "registration")
        messages.append(str(unhandled.value))
        return messages

    assert on_each_transport(scenario) == [
        "rpc SHUTDOWN from server to unknown node client_9: no node 'client_9' is registered on this transport "
        "(known nodes: client_1, server)",
        "rpc unknown_type from server to client_1: client_1 registered no handler for unknown_type "
        "(register_message_handler); it handles: heartbeat, registration",
    ]


def test_a_handler_failure_comes_back_as_remote_handler_error_with_the_original_named(on_each_transport) -> None:
    async def broken(source: str, data: Any) -> None:
        raise ValueError("model weights are NaN")

    async def scenario(transport: TransportBase) -> RemoteHandlerError:
        server = CommunicationManager(transport, "server")
        client = CommunicationManager(transport, "client_1")
        client.register_message_handler(TRAIN, broken)
        with pytest.raises(RemoteHandlerError) as info:
            await server.send_business_message("client_1", TRAIN, {"round": 1})
        return info.value

    error = on_each_transport(scenario)
    assert str(error) == "rpc train from server to client_1 failed in the handler: ValueError: model weights are NaN"
    assert error.__cause__ is error.original
    assert exception_name(error.original) == "ValueError"
    assert str(error.original) == "model weights are NaN"


def test_an_rpc_times_out_on_the_senders_bound_and_the_handler_is_cancelled(on_each_transport) -> None:
    cancelled: list[str] = []

    async def slow(source: str, data: Any) -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(source)
            raise
        return "too late"

    async def scenario(transport: TransportBase) -> float:
        a = CommunicationManager(transport, "a")
        b = CommunicationManager(transport, "b")
        b.register_message_handler("slow", slow)
        started = time.monotonic()
        with pytest.raises(RpcTimeoutError) as info:
            await a.send_business_message("b", "slow", None, timeout=0.1)
        assert str(info.value) == "rpc slow from a to b timed out after 0.1s without an answer"
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.05)
        return elapsed

    assert on_each_transport(scenario, default_timeout=5.0) < 1.0
    assert cancelled == ["a"]


def test_events_count_listeners_and_dead_letter_what_nobody_received(on_each_transport) -> None:
    received: list[Any] = []

    async def good(data: Any) -> None:
        received.append(data)

    async def bad(data: Any) -> None:
        raise RuntimeError("disk full")

    async def stuck(data: Any) -> None:
        await asyncio.sleep(5)

    async def scenario(transport: TransportBase) -> tuple[list[int], list[DeadLetter]]:
        server = CommunicationManager(transport, "server")
        CommunicationManager(transport, "c1")
        for listener in (good, bad, stuck, good):
            transport.register_event_listener("c1", "tick", listener)
        counts = [
            await server.send_control_message("c1", "tick", {"n": 1}, timeout=0.1),
            await server.send_control_message("c1", "CLIENT_DISCONNECTED", {"id": "c7"}),
            await transport.push_event("server", "c99", "CLIENT_DISCONNECTED", None),
        ]
        return counts, transport.dead_letters

    counts, letters = on_each_transport(scenario)
    assert counts == [2, 0, 0]
    assert received == [{"n": 1}, {"n": 1}]
    assert [(letter.target, letter.event_type, letter.data) for letter in letters] == [
        ("c1", "tick", {"n": 1}),
        ("c1", "tick", {"n": 1}),
        ("c1", "CLIENT_DISCONNECTED", {"id": "c7"}),
        ("c99", "CLIENT_DISCONNECTED", None),
    ]
    assert letters[0].reason.startswith("listener ") and letters[0].reason.endswith("bad raised RuntimeError: disk full")
    assert letters[1].reason.endswith("stuck timed out after 0.1s")
    assert letters[2].reason == "no listener for CLIENT_DISCONNECTED on c1"
    assert letters[3].reason == "unknown node c99"


def test_strict_mode_raises_on_the_sender_with_the_listeners_error_as_the_cause(on_each_transport) -> None:
    delivered: list[Any] = []

    async def bad(data: Any) -> None:
        raise KeyError("missing")

    async def good(data: Any) -> None:
        delivered.append(data)

    async def scenario(transport: TransportBase) -> list[UndeliveredEventError]:
        server = CommunicationManager(transport, "server")
        CommunicationManager(transport, "c1")
        transport.register_event_listener("c1", "tick", bad)
        transport.register_event_listener("c1", "tick", good)
        errors = []
        for event_type in ("tick", "CLIENT_DISCONNECTED"):
            with pytest.raises(UndeliveredEventError) as info:
                await server.send_control_message("c1", event_type, 1)
            errors.append(info.value)
        assert transport.dead_letters == []
        return errors

    failed, unheard = on_each_transport(scenario, strict=True)
    assert delivered == [1]
    assert exception_name(failed.__cause__) == "KeyError"
    assert str(failed).endswith("bad raised KeyError: 'missing'")
    assert str(unheard) == (
        "event CLIENT_DISCONNECTED from server to c1 was not delivered: no listener for CLIENT_DISCONNECTED on c1"
    )


def test_a_round_completes_without_an_unreachable_client_and_shutdown_names_it(on_each_transport) -> None:
    class Vanishing(Client):
        """Answers registration, then hangs on train: the server's bound makes it 'unreachable'."""

        async def _handle_train(self, source: str, data: Any) -> dict[str, Any]:
            await asyncio.sleep(5)
            return await super()._handle_train(source, data)

        async def _handle_shutdown(self, source: str, data: Any) -> dict[str, Any]:
            await asyncio.sleep(5)
            return await super()._handle_shutdown(source, data)

    async def scenario(transport: TransportBase) -> tuple[Any, Server]:
        server = Server(transport, "server", rpc_timeout=0.2, shutdown_timeout=0.2)
        clients = [Client(transport, "client_1", local_value=1.0), Vanishing(transport, "client_2", local_value=9.0)]
        clients.append(Client(transport, "client_3", local_value=3.0))
        return await run_federation(server, clients, rounds=2), server

    result, server = on_each_transport(scenario)
    assert result.round_averages == (1.0, 1.5)  # from client_1 and client_3 only
    first, second = server.round_reports
    assert sorted(first.answered) == ["client_1", "client_3"]
    assert first.missing == ("client_2",)
    assert first.reasons["client_2"] == "rpc train from server to client_2 timed out after 0.2s without an answer"
    assert second.missing == ()  # a lost client is out until it registers again
    assert server.lost_clients == ("client_2",)
    assert result.missing == ("client_2",)
    assert result.shutdown.reasons["client_2"].startswith("rpc SHUTDOWN from server to client_2 timed out")


# ------------------------------------------------------------------- the network only


def test_two_transports_find_each_other_from_the_requests_and_a_lost_peer_is_named() -> None:
    """A client knows the server's address; the server learns the client's from its registration."""

    async def scenario() -> tuple[str, str, int]:
        async with GrpcTransport() as server_side, GrpcTransport() as client_side:
            server = Server(server_side, "server", rpc_timeout=2.0)
            await server_side.start()
            client_side.add_peer("server", server_side.address_of("server"))
            client = Client(client_side, "client_1", local_value=4.0)
            await client.start()
            assert server_side.known_nodes == ("client_1", "server")
            assert server_side.address_of("client_1") == client_side.address_of("client_1")
            await server.announce_registrations()
            assert client.federation == ("client_1",)
            value = await server.run_round(1)
            assert value == 2.0
            await client_side.close()  # the client's process goes away
            with pytest.raises(NodeUnavailableError) as info:
                await server.manager.send_business_message("client_1", TRAIN, {"round": 2, "global_value": 0})
            lost = await server.manager.send_control_message("client_1", CLIENT_REGISTERED, {"clients": []})
            return str(info.value), server_side.dead_letters[0].reason, lost

    error, reason, lost = run(scenario())
    assert error.startswith("rpc train from server to client_1 failed: client_1 at 127.0.0.1:")
    assert "is unavailable (" in error
    assert lost == 0
    assert reason.startswith("client_1 at 127.0.0.1:") and "is unavailable" in reason


def test_a_restarted_peer_is_reached_at_its_new_address_once_it_registers_again() -> None:
    async def scenario() -> list[float]:
        async with GrpcTransport() as server_side:
            server = Server(server_side, "server", rpc_timeout=2.0)
            await server_side.start()
            address = server_side.address_of("server")
            values = []
            first = GrpcTransport(peers={"server": address})
            await Client(first, "client_1", local_value=2.0).start()
            values.append(await server.run_round(1))
            await first.close()
            with pytest.raises(TransportError):  # no client answered: the only one is gone
                await server.run_round(2)
            assert server.active_clients == ()
            async with GrpcTransport(peers={"server": address}) as second:
                await Client(second, "client_1", local_value=6.0).start()
                assert server.active_clients == ("client_1",)
                values.append(await server.run_round(2))
            return values

    assert run(scenario()) == [1.0, 3.5]


def test_an_address_that_now_serves_another_node_is_not_taken_for_it() -> None:
    async def scenario() -> str:
        async with GrpcTransport() as other, GrpcTransport() as sender:
            CommunicationManager(other, "client_7")
            await other.start()
            sender.add_peer("client_2", other.address_of("client_7"))  # a stale address, reused
            CommunicationManager(sender, "server")
            with pytest.raises(NodeUnavailableError) as info:
                await sender.send("server", "client_2", {"message_type": HEARTBEAT, "data": None})
            return str(info.value)

    assert run(scenario()).endswith(" serves client_7, not client_2)")


def test_only_loopback_addresses_are_accepted() -> None:
    for address in ("127.0.0.1:5000", "127.3.4.5:1", "localhost:80", "[::1]:9000"):
        assert loopback_address(address) == address
    for address in ("10.0.0.1:5000", "192.168.1.2:80", "example.org:443", "0.0.0.0:1", "127.0.0.1", "127.0.0.1:0"):
        with pytest.raises(ValueError):
            loopback_address(address)
    with pytest.raises(ValueError, match="not a loopback address"):
        GrpcTransport(host="0.0.0.0")
    with pytest.raises(ValueError, match="not a loopback address"):
        GrpcTransport(peers={"server": "10.1.2.3:5000"})


def test_a_request_learns_no_address_outside_loopback() -> None:
    async def scenario() -> tuple[str, ...]:
        async with GrpcTransport() as receiver:
            CommunicationManager(receiver, "server")
            await receiver.start()
            request = wire.RpcRequest(
                "intruder", "server", "203.0.113.9:443", 1.0, {"message_type": HEARTBEAT, "data": None}
            )
            import grpc.aio

            async with grpc.aio.insecure_channel(receiver.address_of("server")) as channel:
                raw = await channel.unary_unary(RPC_METHOD)(request.to_bytes(), timeout=5)
            assert wire.rpc_answer(raw)[0] is True
            return receiver.known_nodes

    assert run(scenario()) == ("server",)


def test_data_that_is_not_json_is_refused_before_it_is_sent() -> None:
    async def scenario() -> None:
        async with GrpcTransport() as transport:
            a = CommunicationManager(transport, "a")
            CommunicationManager(transport, "b")
            await a.send_business_message("b", HEARTBEAT, {"weights": {1.5, 2.5}})

    with pytest.raises(TypeError, match="is not JSON data, so it cannot cross the network"):
        run(scenario())


def test_the_wire_decodes_json_objects_only_and_never_runs_code() -> None:
    import pickle

    for raw in (pickle.dumps({"v": 1}), b"[1, 2]", b"\xff\xfe", b'{"v": 2}', b"[" * 100_000):
        with pytest.raises(wire.ProtocolError):
            wire.decode(raw)
    with pytest.raises(wire.ProtocolError, match="timeout"):
        wire.RpcRequest.from_bytes(
            b'{"v":1,"source":"a","target":"b","reply_to":null,"timeout":-1,"payload":{"message_type":"x"}}'
        )
    with pytest.raises(wire.ProtocolError, match="payload"):
        wire.RpcRequest.from_bytes(b'{"v":1,"source":"a","target":"b","reply_to":null,"timeout":1,"payload":[]}')
    request = wire.EventRequest("a", "b", "127.0.0.1:1", 2.5, "tick", {"n": [1, 2]})
    assert wire.EventRequest.from_bytes(request.to_bytes()) == request


def test_a_malformed_request_is_answered_as_such_and_the_server_keeps_serving() -> None:
    async def scenario() -> tuple[bool, Any, Any]:
        async with GrpcTransport() as transport:
            manager = CommunicationManager(transport, "server")
            await transport.start()
            import grpc.aio

            async with grpc.aio.insecure_channel(transport.address_of("server")) as channel:
                raw = await channel.unary_unary(RPC_METHOD)(b"\x80\x04not json", timeout=5)
            ok, error = wire.rpc_answer(raw)
            reply = await manager.send_business_message("server", HEARTBEAT, None)
            return ok, error, reply

    ok, error, reply = run(scenario())
    assert ok is False
    assert error["kind"] == "bad_request"
    assert reply["alive"] is True


def test_remote_exceptions_read_as_the_original() -> None:
    original = RemoteException("ZeroDivisionError", "division by zero")
    error = RemoteHandlerError("server", "client_1", TRAIN, original)
    assert str(error) == "rpc train from server to client_1 failed in the handler: ZeroDivisionError: division by zero"


def test_a_chosen_port_in_use_is_an_error_not_a_shared_port() -> None:
    async def scenario() -> None:
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            transport = GrpcTransport(ports={"server": port})
            CommunicationManager(transport, "server")
            try:
                await transport.start()
            finally:
                await transport.close()

    with pytest.raises(OSError, match="server cannot listen on 127.0.0.1:"):
        run(scenario())

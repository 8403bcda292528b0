"""Tests of the reference runtime (fedcl_lint.runtime) and of the demo.

Plain test functions drive asyncio with ``asyncio.run``; every run is wrapped
in a timeout so a broken runtime fails a test instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
import gc
import io
import re
import time
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from fedcl_lint.cli import cli
from fedcl_lint.demo import BuggyServer, run_demo
from fedcl_lint.runtime import (
    CLIENT_REGISTERED,
    HEARTBEAT,
    REGISTRATION,
    SHUTDOWN,
    TRAIN,
    Client,
    CommunicationManager,
    DeadLetter,
    DuplicateRegistrationError,
    FedclRuntimeError,
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
)

TEST_TIMEOUT = 10.0


def run(coro: Any, timeout: float = TEST_TIMEOUT) -> Any:
    """Run a coroutine with a hard bound, so no test can hang."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def one_line(text: str) -> str:
    """Collapse rich's wrapping (and panel borders) so assertions can read sentences."""
    text = re.sub(r"[│╭╮╰╯─]", " ", text)
    return re.sub(r"\s+", " ", text)


async def echo(source: str, data: Any) -> Any:
    return {"from": source, "echo": data}


def build_federation(
    transport: MemoryTransport, count: int, **server_options: Any
) -> tuple[Server, list[Client]]:
    server = Server(transport, "server", **server_options)
    clients = [Client(transport, f"client_{i}", local_value=float(i)) for i in range(count)]
    return server, clients


def expected_averages(local_values: list[float], rounds: int, start: float = 0.0) -> list[float]:
    """Closed form of the toy training: each round moves halfway to the mean local value."""
    mean = sum(local_values) / len(local_values)
    averages, value = [], start
    for _ in range(rounds):
        value = (value + mean) / 2
        averages.append(value)
    return averages


# --------------------------------------------------------------- end to end


def test_fifty_clients_train_three_rounds_with_exact_averages_and_all_acknowledge_shutdown() -> None:
    async def scenario() -> tuple[Any, Server, list[Client], MemoryTransport]:
        transport = MemoryTransport(default_timeout=2.0)
        server, clients = build_federation(transport, 50)
        result = await run_federation(server, clients, rounds=3)
        return result, server, clients, transport

    result, server, clients, transport = run(scenario())

    # local values 0..49: mean 24.5, so 12.25, 18.375, 21.4375 (all exact in binary)
    assert result.round_averages == (12.25, 18.375, 21.4375)
    assert list(result.round_averages) == expected_averages([float(i) for i in range(50)], 3)
    assert result.final_value == 21.4375
    assert result.announcements_delivered == 50
    assert result.acknowledged == tuple(f"client_{i}" for i in range(50))
    assert result.missing == ()
    assert result.shutdown.reasons == {}
    assert server.registered_clients == tuple(f"client_{i}" for i in range(50))
    assert server.manager.heartbeats == {f"client_{i}": 1 for i in range(50)}
    for client in clients:
        assert client.registered
        assert client.rounds_trained == [1, 2, 3]
        assert client.shutdown_received
        assert client.federation == server.registered_clients
    assert transport.dead_letters == []


def test_recorded_protocol_of_a_run_is_exactly_the_runtime_protocol() -> None:
    async def scenario() -> MemoryTransport:
        transport = MemoryTransport()
        server, clients = build_federation(transport, 3)
        await run_federation(server, clients, rounds=1)
        return transport

    transport = run(scenario())
    rpc_types = {REGISTRATION, HEARTBEAT, TRAIN, SHUTDOWN}
    expected = {(t, "rpc", role) for t in rpc_types for role in ("send", "handle")}
    expected |= {(CLIENT_REGISTERED, "event", "send"), (CLIENT_REGISTERED, "event", "handle")}
    assert transport.recorded_protocol == frozenset(expected)


def test_recorder_counts_failed_sends_and_raw_transport_calls() -> None:
    async def scenario() -> MemoryTransport:
        transport = MemoryTransport()
        transport.register_event_listener("a", "ping", lambda data: asyncio.sleep(0))
        with pytest.raises(UnknownNodeError):
            await transport.send("a", "ghost", {"message_type": "lookup", "data": None})
        await transport.push_event("a", "b", "tick", 1)
        return transport

    transport = run(scenario())
    assert transport.recorded_protocol == frozenset(
        {("ping", "event", "handle"), ("lookup", "rpc", "send"), ("tick", "event", "send")}
    )


def test_trace_observer_sees_each_send_in_order() -> None:
    async def scenario() -> list[TracedMessage]:
        transport = MemoryTransport()
        trace: list[TracedMessage] = []
        transport.add_observer(trace.append)
        a = CommunicationManager(transport, "a")
        CommunicationManager(transport, "b")
        await a.send_business_message("b", HEARTBEAT, None)
        await a.send_control_message("b", "note", {})
        transport.remove_observer(trace.append)
        await a.send_business_message("b", HEARTBEAT, None)
        return trace

    assert run(scenario()) == [
        TracedMessage("rpc", "a", "b", HEARTBEAT),
        TracedMessage("event", "a", "b", "note"),
    ]


# --------------------------------------------------------------------- rpc


def test_rpc_returns_the_handler_reply_and_passes_source_and_data() -> None:
    async def scenario() -> Any:
        transport = MemoryTransport()
        a = CommunicationManager(transport, "a")
        b = CommunicationManager(transport, "b")
        b.register_message_handler("echo", echo)
        return await a.send_business_message("b", "echo", {"x": 1})

    assert run(scenario()) == {"from": "a", "echo": {"x": 1}}


def test_builtin_registration_and_heartbeat_go_through_the_handler_table() -> None:
    async def scenario() -> tuple[Any, Any, CommunicationManager]:
        transport = MemoryTransport()
        server = CommunicationManager(transport, "server")
        client = CommunicationManager(transport, "c1")
        registration = await client.send_business_message("server", REGISTRATION, {"gpu": False})
        heartbeat = await client.send_business_message("server", HEARTBEAT, None)
        return registration, heartbeat, server

    registration, heartbeat, server = run(scenario())
    assert registration == {
        "accepted": True,
        "node_id": "server",
        "client_id": "c1",
        "already_registered": False,
        "client_count": 1,
    }
    assert heartbeat == {"alive": True, "node_id": "server", "registered": True}
    assert server.message_types == frozenset({REGISTRATION, HEARTBEAT})
    assert server.registered_clients == ("c1",)
    assert server.registration_info("c1") == {"gpu": False}
    assert server.heartbeats == {"c1": 1}
    assert server.last_heartbeat("c1") is not None
    assert server.last_heartbeat("c2") is None


def test_rpc_to_unknown_node_names_the_node_and_the_known_nodes() -> None:
    async def scenario() -> None:
        transport = MemoryTransport()
        server = CommunicationManager(transport, "server")
        CommunicationManager(transport, "client_1")
        await server.send_business_message("client_9", SHUTDOWN, {})

    with pytest.raises(UnknownNodeError) as info:
        run(scenario())
    error = info.value
    assert error.target == "client_9"
    assert error.source == "server"
    assert error.message_type == SHUTDOWN
    assert error.known_nodes == ("client_1", "server")
    assert str(error) == (
        "rpc SHUTDOWN from server to unknown node client_9: no node 'client_9' is registered "
        "on this transport (known nodes: client_1, server)"
    )


def test_unknown_node_message_stays_short_with_many_nodes() -> None:
    async def scenario() -> None:
        transport = MemoryTransport()
        managers = [CommunicationManager(transport, f"n{i:02d}") for i in range(25)]
        await managers[0].send_business_message("ghost", HEARTBEAT, None)

    with pytest.raises(UnknownNodeError) as info:
        run(scenario())
    assert len(info.value.known_nodes) == 25
    assert "(known nodes: n00, n01, n02, n03, n04, n05, n06, n07, n08, n09 and 15 more)" in str(info.value)


def test_rpc_of_a_type_nobody_handles_fails_before_any_handler_runs() -> None:
    async def scenario() -> None:
        transport = MemoryTransport()
        a = CommunicationManager(transport, "a")
        CommunicationManager(transport, "b")
        await a.send_business_message("b", "unknown_type", None)

    with pytest.raises(UnhandledMessageError) as info:
        run(scenario())
    assert str(info.value) == (
        "rpc unknown_type from a to b: b registered no handler for unknown_type "
        "(register_message_handler); it handles: heartbeat, registration"
    )


def test_rpc_times_out_with_a_per_call_timeout_and_cancels_the_handler() -> None:
    cancelled = []

    async def slow(source: str, data: Any) -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(source)
            raise
        return "too late"

    async def scenario() -> float:
        transport = MemoryTransport(default_timeout=5.0)
        a = CommunicationManager(transport, "a")
        b = CommunicationManager(transport, "b")
        b.register_message_handler("slow", slow)
        started = time.monotonic()
        with pytest.raises(RpcTimeoutError) as info:
            await a.send_business_message("b", "slow", None, timeout=0.05)
        assert (info.value.source, info.value.target, info.value.message_type) == ("a", "b", "slow")
        assert info.value.timeout == 0.05
        assert str(info.value) == "rpc slow from a to b timed out after 0.05s without an answer"
        return time.monotonic() - started

    elapsed = run(scenario())
    assert elapsed < 1.0
    assert cancelled == ["a"]


def test_rpc_uses_the_transport_default_timeout() -> None:
    async def hang(source: str, data: Any) -> None:
        await asyncio.sleep(5)

    async def scenario() -> None:
        transport = MemoryTransport(default_timeout=0.05)
        a = CommunicationManager(transport, "a")
        b = CommunicationManager(transport, "b")
        b.register_message_handler("hang", hang)
        await a.send_business_message("b", "hang", None)

    with pytest.raises(RpcTimeoutError, match=r"rpc hang from a to b timed out after 0\.05s"):
        run(scenario())


def test_a_handler_timeout_of_its_own_is_a_handler_error_not_an_rpc_timeout() -> None:
    async def inner_timeout(source: str, data: Any) -> None:
        await asyncio.wait_for(asyncio.sleep(5), 0.01)

    async def scenario() -> None:
        transport = MemoryTransport(default_timeout=2.0)
        a = CommunicationManager(transport, "a")
        b = CommunicationManager(transport, "b")
        b.register_message_handler("inner", inner_timeout)
        await a.send_business_message("b", "inner", None)

    with pytest.raises(RemoteHandlerError) as info:
        run(scenario())
    assert isinstance(info.value.__cause__, asyncio.TimeoutError)


def test_invalid_timeouts_are_rejected() -> None:
    with pytest.raises(ValueError, match="default_timeout must be positive"):
        MemoryTransport(default_timeout=0)

    async def scenario() -> None:
        transport = MemoryTransport()
        a = CommunicationManager(transport, "a")
        await a.send_business_message("a", HEARTBEAT, None, timeout=-1)

    with pytest.raises(ValueError, match="timeout must be positive"):
        run(scenario())


def test_handler_exception_comes_back_as_remote_handler_error_chaining_the_original() -> None:
    async def broken(source: str, data: Any) -> None:
        raise ValueError("model weights are NaN")

    async def scenario() -> None:
        transport = MemoryTransport()
        server = CommunicationManager(transport, "server")
        client = CommunicationManager(transport, "client_1")
        client.register_message_handler(TRAIN, broken)
        await server.send_business_message("client_1", TRAIN, {"round": 1})

    with pytest.raises(RemoteHandlerError) as info:
        run(scenario())
    error = info.value
    assert isinstance(error.__cause__, ValueError)
    assert error.original is error.__cause__
    assert str(error) == "rpc train from server to client_1 failed in the handler: ValueError: model weights are NaN"


def test_raw_transport_rejects_a_payload_without_message_type() -> None:
    async def scenario() -> None:
        transport = MemoryTransport()
        transport.register_request_handler("b", echo)
        await transport.send("a", "b", "not a payload")

    with pytest.raises(TypeError, match="must be a mapping with a str 'message_type'"):
        run(scenario())


def test_raw_request_handler_without_declarations_receives_the_whole_payload() -> None:
    async def scenario() -> Any:
        transport = MemoryTransport()
        transport.register_request_handler("b", echo)
        return await transport.send("a", "b", {"message_type": "anything", "data": 7})

    assert run(scenario()) == {"from": "a", "echo": {"message_type": "anything", "data": 7}}


def test_duplicate_node_ids_and_duplicate_rpc_handlers_are_rejected() -> None:
    transport = MemoryTransport()
    manager = CommunicationManager(transport, "a")
    with pytest.raises(DuplicateRegistrationError, match="node 'a' already has a request handler"):
        CommunicationManager(transport, "a")
    with pytest.raises(DuplicateRegistrationError, match="a already has an rpc handler for heartbeat"):
        manager.register_message_handler(HEARTBEAT, echo)


def test_every_runtime_error_shares_one_base_class() -> None:
    for error in (
        UnknownNodeError,
        UnhandledMessageError,
        RpcTimeoutError,
        RemoteHandlerError,
        MechanismMismatchError,
        UndeliveredEventError,
        DuplicateRegistrationError,
    ):
        assert issubclass(error, FedclRuntimeError)


# ------------------------------------------------------------------ events


def test_push_event_returns_the_number_of_listeners_reached() -> None:
    received: list[tuple[str, Any]] = []

    async def first(data: Any) -> None:
        received.append(("first", data))

    async def second(data: Any) -> None:
        received.append(("second", data))

    async def scenario() -> tuple[int, int]:
        transport = MemoryTransport()
        server = CommunicationManager(transport, "server")
        client = CommunicationManager(transport, "c1")
        client.register_event_listener("c1", CLIENT_REGISTERED, first)
        client.register_event_listener("c1", CLIENT_REGISTERED, second)
        via_manager = await server.send_control_message("c1", CLIENT_REGISTERED, {"n": 1})
        via_transport = await transport.push_event("server", "c1", CLIENT_REGISTERED, {"n": 2})
        assert transport.event_types("c1") == frozenset({CLIENT_REGISTERED})
        return via_manager, via_transport

    assert run(scenario()) == (2, 2)
    assert received == [("first", {"n": 1}), ("second", {"n": 1}), ("first", {"n": 2}), ("second", {"n": 2})]


def test_event_without_listener_returns_zero_and_becomes_a_dead_letter() -> None:
    async def scenario() -> tuple[int, int, MemoryTransport]:
        transport = MemoryTransport()
        server = CommunicationManager(transport, "server")
        CommunicationManager(transport, "c1")
        to_known = await server.send_control_message("c1", "CLIENT_DISCONNECTED", {"id": "c7"})
        to_unknown = await transport.push_event("server", "c99", "CLIENT_DISCONNECTED", None)
        return to_known, to_unknown, transport

    to_known, to_unknown, transport = run(scenario())
    assert to_known == 0
    assert to_unknown == 0
    assert transport.dead_letters == [
        DeadLetter("server", "c1", "CLIENT_DISCONNECTED", {"id": "c7"}, "no listener for CLIENT_DISCONNECTED on c1"),
        DeadLetter("server", "c99", "CLIENT_DISCONNECTED", None, "unknown node c99"),
    ]
    letters = transport.dead_letters
    letters.clear()
    assert len(transport.dead_letters) == 2  # the property hands out a copy
    with pytest.raises(AttributeError):
        transport.dead_letters[0].reason = "edited"  # type: ignore[misc]


def test_failing_and_hanging_listeners_are_not_counted_and_are_dead_lettered() -> None:
    async def good(data: Any) -> None:
        return None

    async def bad(data: Any) -> None:
        raise RuntimeError("disk full")

    async def stuck(data: Any) -> None:
        await asyncio.sleep(5)

    async def scenario() -> tuple[int, MemoryTransport]:
        transport = MemoryTransport(default_timeout=2.0)
        for listener in (good, bad, stuck):
            transport.register_event_listener("c1", "tick", listener)
        count = await transport.push_event("server", "c1", "tick", 3, timeout=0.05)
        return count, transport

    count, transport = run(scenario())
    assert count == 1
    reasons = [letter.reason for letter in transport.dead_letters]
    assert len(reasons) == 2
    assert reasons[0].startswith("listener ") and reasons[0].endswith("bad raised RuntimeError: disk full")
    assert reasons[1].startswith("listener ") and reasons[1].endswith("stuck timed out after 0.05s")


def test_strict_mode_raises_instead_of_dead_lettering() -> None:
    async def scenario() -> MemoryTransport:
        transport = MemoryTransport(strict=True)
        server = CommunicationManager(transport, "server")
        CommunicationManager(transport, "c1")
        with pytest.raises(UndeliveredEventError) as info:
            await server.send_control_message("c1", "CLIENT_DISCONNECTED", {"id": "c7"})
        assert info.value.dead_letter == DeadLetter(
            "server", "c1", "CLIENT_DISCONNECTED", {"id": "c7"}, "no listener for CLIENT_DISCONNECTED on c1"
        )
        assert str(info.value) == (
            "event CLIENT_DISCONNECTED from server to c1 was not delivered: "
            "no listener for CLIENT_DISCONNECTED on c1"
        )
        return transport

    assert run(scenario()).dead_letters == []


def test_strict_mode_raises_when_a_listener_fails_after_the_others_ran() -> None:
    delivered: list[Any] = []

    async def bad(data: Any) -> None:
        raise KeyError("missing")

    async def good(data: Any) -> None:
        delivered.append(data)

    async def scenario() -> None:
        transport = MemoryTransport(strict=True)
        transport.register_event_listener("c1", "tick", bad)
        transport.register_event_listener("c1", "tick", good)
        await transport.push_event("server", "c1", "tick", 1)

    with pytest.raises(UndeliveredEventError) as info:
        run(scenario())
    assert isinstance(info.value.__cause__, KeyError)
    assert delivered == [1]


# ------------------------------------------------- cancellation and timeouts


async def ignore_cancellation(release: asyncio.Event, at_most: float = 3.0) -> None:
    """Swallow every cancellation until ``release`` is set; bounded, so a regression fails instead of hanging."""
    deadline = time.monotonic() + at_most
    while not release.is_set() and time.monotonic() < deadline:
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            pass


def test_a_listener_raising_cancelled_error_is_dead_lettered_and_later_listeners_still_run() -> None:
    received: list[str] = []

    async def first(data: Any) -> None:
        received.append("first")

    async def gives_up(data: Any) -> None:
        raise asyncio.CancelledError("listener gave up")

    async def last(data: Any) -> None:
        received.append("last")

    async def scenario() -> tuple[int, MemoryTransport]:
        transport = MemoryTransport()
        for listener in (first, gives_up, last):
            transport.register_event_listener("c1", "tick", listener)
        return await transport.push_event("server", "c1", "tick", 1), transport

    count, transport = run(scenario(), timeout=5)
    assert count == 2
    assert received == ["first", "last"]
    [letter] = transport.dead_letters
    assert letter.reason.startswith("listener ")
    assert letter.reason.endswith("gives_up raised CancelledError: listener gave up")


def test_a_handler_raising_cancelled_error_reaches_the_sender_as_remote_handler_error() -> None:
    async def gives_up(source: str, data: Any) -> None:
        raise asyncio.CancelledError("handler gave up")

    async def scenario() -> None:
        transport = MemoryTransport()
        a = CommunicationManager(transport, "a")
        b = CommunicationManager(transport, "b")
        b.register_message_handler("work", gives_up)
        await a.send_business_message("b", "work", None)

    with pytest.raises(RemoteHandlerError) as info:
        run(scenario(), timeout=5)
    assert isinstance(info.value.__cause__, asyncio.CancelledError)
    assert str(info.value) == "rpc work from a to b failed in the handler: CancelledError: handler gave up"


def test_rpc_timeout_holds_when_the_handler_swallows_its_cancellation() -> None:
    release = asyncio.Event()

    async def stubborn(source: str, data: Any) -> str:
        await ignore_cancellation(release)
        return "too late"

    async def scenario() -> float:
        transport = MemoryTransport()
        a = CommunicationManager(transport, "a")
        b = CommunicationManager(transport, "b")
        b.register_message_handler("work", stubborn)
        started = time.monotonic()
        try:
            with pytest.raises(RpcTimeoutError, match=r"rpc work from a to b timed out after 0\.2s"):
                await a.send_business_message("b", "work", None, timeout=0.2)
        finally:
            release.set()
        return time.monotonic() - started

    assert run(scenario(), timeout=5) < 1.0


def test_event_timeout_holds_when_a_listener_swallows_its_cancellation() -> None:
    received: list[Any] = []
    release = asyncio.Event()

    async def stubborn(data: Any) -> None:
        await ignore_cancellation(release)

    async def scenario() -> tuple[int, float, MemoryTransport]:
        transport = MemoryTransport()
        transport.register_event_listener("c1", "tick", stubborn)
        transport.register_event_listener("c1", "tick", lambda data: _append(received, data))
        started = time.monotonic()
        try:
            count = await transport.push_event("server", "c1", "tick", 1, timeout=0.2)
        finally:
            release.set()
        return count, time.monotonic() - started, transport

    count, elapsed, transport = run(scenario(), timeout=5)
    assert elapsed < 1.0
    assert count == 1
    assert received == [1]
    [letter] = transport.dead_letters
    assert letter.reason.endswith("stubborn timed out after 0.2s")


def test_a_late_answer_after_the_timeout_is_discarded_and_its_task_cleaned_up() -> None:
    ended: list[str] = []
    loop_errors: list[dict[str, Any]] = []

    async def answers_late(source: str, data: Any) -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            await asyncio.sleep(1.0)
            return "late answer"
        finally:
            ended.append("answers_late")
        return "unreachable"

    async def fails_late(source: str, data: Any) -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            await asyncio.sleep(0.3)
            raise ValueError("failed after being abandoned") from None
        finally:
            ended.append("fails_late")

    async def scenario() -> float:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: loop_errors.append(context))
        transport = MemoryTransport()
        a = CommunicationManager(transport, "a")
        b = CommunicationManager(transport, "b")
        b.register_message_handler("work", answers_late)
        b.register_message_handler("fail", fails_late)
        started = time.monotonic()
        with pytest.raises(RpcTimeoutError):
            await a.send_business_message("b", "work", None, timeout=0.2)
        elapsed = time.monotonic() - started
        with pytest.raises(RpcTimeoutError):
            await a.send_business_message("b", "fail", None, timeout=0.2)
        while len(ended) < 2:  # the abandoned handlers run to their end (bounded by run()'s timeout)...
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.05)
        gc.collect()  # ...and asyncio reports no result or exception that nobody retrieved
        return elapsed

    assert run(scenario(), timeout=5) < 1.0
    assert loop_errors == []


def test_the_callers_own_cancellation_propagates_and_stops_the_handler() -> None:
    async def scenario() -> list[str]:
        transport = MemoryTransport(default_timeout=5.0)
        events: list[str] = []
        started, stopped = asyncio.Event(), asyncio.Event()

        async def slow(*args: Any) -> None:
            started.set()
            try:
                await asyncio.sleep(5)
            except asyncio.CancelledError:
                stopped.set()
                raise

        transport.register_event_listener("c1", "tick", slow)
        transport.register_event_listener("c1", "tick", lambda data: _append(events, "later listener"))
        sender = asyncio.create_task(transport.push_event("server", "c1", "tick", 1))
        await started.wait()
        sender.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sender
        await asyncio.wait_for(stopped.wait(), 1)
        assert transport.dead_letters == []  # the caller gave up: nothing was lost by the transport

        started.clear()
        stopped.clear()
        transport.register_request_handler("b", slow)
        with pytest.raises(asyncio.TimeoutError) as info:  # the caller's own timeout, as itself
            await asyncio.wait_for(transport.send("a", "b", {"message_type": "work"}), 0.1)
        assert not isinstance(info.value, FedclRuntimeError)
        await asyncio.wait_for(stopped.wait(), 1)
        return events

    assert run(scenario(), timeout=5) == []


# ------------------------------------------------------------------- guard


def test_the_seeds_bug_raises_mechanism_mismatch_at_the_first_send() -> None:
    shutdowns: list[str] = []

    async def on_shutdown(source: str, data: Any) -> dict[str, bool]:
        shutdowns.append(source)
        return {"acknowledged": True}

    async def scenario() -> tuple[int, MemoryTransport]:
        transport = MemoryTransport()
        server = CommunicationManager(transport, "server")
        for i in range(1, 4):
            client = CommunicationManager(transport, f"client_{i}")
            client.register_message_handler(SHUTDOWN, on_shutdown)
        sends = 0
        with pytest.raises(MechanismMismatchError) as info:
            for i in range(1, 4):
                sends += 1
                await server.send_control_message(f"client_{i}", SHUTDOWN, {"reason": "done"})
        error = info.value
        assert (error.message_type, error.node_id, error.used, error.registered) == (
            SHUTDOWN,
            "client_1",
            "event",
            "rpc",
        )
        assert str(error) == (
            "SHUTDOWN was sent as an event to client_1, which registered it only as an rpc handler "
            "(register_message_handler); send it with send_business_message, or register an event listener"
        )
        return sends, transport

    sends, transport = run(scenario())
    assert sends == 1
    assert shutdowns == []
    assert transport.dead_letters == []  # a sender bug is raised, not filed as a lost event


def test_guard_works_on_the_raw_transport_and_in_the_other_direction() -> None:
    async def on_event(data: Any) -> None:
        return None

    async def scenario() -> None:
        transport = MemoryTransport()
        server = CommunicationManager(transport, "server")
        client = CommunicationManager(transport, "client_1")
        client.register_message_handler(SHUTDOWN, echo)
        client.register_event_listener("client_1", "CLIENT_DISCONNECTED", on_event)
        assert transport.rpc_message_types("client_1") == frozenset({REGISTRATION, HEARTBEAT, SHUTDOWN})

        with pytest.raises(MechanismMismatchError, match="^SHUTDOWN was sent as an event to client_1"):
            await transport.push_event("server", "client_1", SHUTDOWN, None)

        with pytest.raises(MechanismMismatchError) as info:
            await server.send_business_message("client_1", "CLIENT_DISCONNECTED", None)
        assert str(info.value) == (
            "CLIENT_DISCONNECTED was sent as an rpc to client_1, which registered it only as an event "
            "listener (register_event_listener); send it with send_control_message, or register an rpc "
            "handler (register_message_handler)"
        )

    run(scenario())


def test_a_type_registered_on_both_mechanisms_is_delivered_on_each() -> None:
    events: list[Any] = []

    async def on_event(data: Any) -> None:
        events.append(data)

    async def scenario() -> tuple[Any, int]:
        transport = MemoryTransport()
        server = CommunicationManager(transport, "server")
        client = CommunicationManager(transport, "c1")
        client.register_message_handler(SHUTDOWN, echo)
        client.register_event_listener("c1", SHUTDOWN, on_event)
        reply = await server.send_business_message("c1", SHUTDOWN, "rpc")
        count = await server.send_control_message("c1", SHUTDOWN, "event")
        return reply, count

    assert run(scenario()) == ({"from": "server", "echo": "rpc"}, 1)
    assert events == ["event"]


# --------------------------------------------------------------- isolation


def test_two_transports_in_one_process_never_see_each_other() -> None:
    async def scenario() -> tuple[Any, Any]:
        first, second = MemoryTransport(), MemoryTransport()
        server_1 = CommunicationManager(first, "server")
        server_2 = CommunicationManager(second, "server")  # same id, other federation: no clash
        worker = CommunicationManager(first, "worker")
        worker.register_message_handler("whoami", lambda source, data: _answer("first"))
        listened: list[Any] = []
        worker.register_event_listener("worker", "tick", lambda data: _append(listened, data))

        reply = await server_1.send_business_message("worker", "whoami", None)
        with pytest.raises(UnknownNodeError) as info:
            await server_2.send_business_message("worker", "whoami", None)
        assert info.value.known_nodes == ("server",)
        assert await server_2.send_control_message("worker", "tick", 1) == 0
        assert await server_1.send_control_message("worker", "tick", 2) == 1
        assert listened == [2]
        assert [letter.target for letter in second.dead_letters] == ["worker"]
        assert first.dead_letters == []
        assert ("whoami", "rpc", "handle") in first.recorded_protocol
        assert ("whoami", "rpc", "handle") not in second.recorded_protocol
        return reply, second.known_nodes

    reply, second_nodes = run(scenario())
    assert reply == "first"
    assert second_nodes == ("server",)


async def _answer(value: Any) -> Any:
    return value


async def _append(items: list[Any], value: Any) -> None:
    items.append(value)


# ---------------------------------------------------------------- shutdown


class SilentClient(Client):
    """Never answers SHUTDOWN (a hung client): the server must not wait for it forever."""

    async def _handle_shutdown(self, source: str, data: Any) -> dict[str, Any]:
        await asyncio.sleep(30)
        return await super()._handle_shutdown(source, data)


class RefusingClient(Client):
    """Answers SHUTDOWN without acknowledging it."""

    async def _handle_shutdown(self, source: str, data: Any) -> dict[str, Any]:
        return {"acknowledged": False, "client_id": self.node_id}


class CrashingClient(Client):
    async def _handle_shutdown(self, source: str, data: Any) -> dict[str, Any]:
        raise OSError("cannot flush checkpoint")


def test_a_client_that_does_not_acknowledge_shutdown_in_time_is_reported_missing() -> None:
    async def scenario() -> tuple[Any, float]:
        transport = MemoryTransport(default_timeout=2.0)
        server = Server(transport, shutdown_timeout=0.1)
        clients = [Client(transport, f"client_{i}", local_value=float(i)) for i in range(5)]
        clients.insert(2, SilentClient(transport, "silent", local_value=2.0))
        clients.append(RefusingClient(transport, "refusing", local_value=4.0))
        clients.append(CrashingClient(transport, "crashing", local_value=1.0))
        started = time.monotonic()
        result = await run_federation(server, clients, rounds=2)
        return result, time.monotonic() - started

    result, elapsed = run(scenario())
    # local values 0, 1, 2, 3, 4 (+2, +4, +1): mean 17/8; averages 17/16, 51/32
    assert result.round_averages == (1.0625, 1.59375)
    assert result.acknowledged == ("client_0", "client_1", "client_2", "client_3", "client_4")
    assert result.missing == ("silent", "refusing", "crashing")
    assert not result.shutdown.complete
    assert result.shutdown.reasons == {
        "silent": "rpc SHUTDOWN from server to silent timed out after 0.1s without an answer",
        "refusing": "answered SHUTDOWN without acknowledging it: {'acknowledged': False, 'client_id': 'refusing'}",
        "crashing": "rpc SHUTDOWN from server to crashing failed in the handler: OSError: cannot flush checkpoint",
    }
    assert elapsed < 2.0  # the silent client cost one shutdown timeout, not its 30 s


def test_a_client_that_vanished_after_registering_is_reported_missing() -> None:
    async def scenario() -> tuple[Any, Client]:
        transport = MemoryTransport()
        server = Server(transport)
        present = Client(transport, "client_1")
        await present.start()
        # A registration that arrived for a node this transport cannot reach (any more).
        await server.manager.handle_rpc_request(
            "client_gone", {"message_type": REGISTRATION, "data": {"node_id": "client_gone"}}
        )
        return await server.shutdown(), present

    report, present = run(scenario())
    assert report.acknowledged == ("client_1",)
    assert report.missing == ("client_gone",)
    assert report.reasons["client_gone"].startswith("rpc SHUTDOWN from server to unknown node client_gone")
    assert present.shutdown_received


def test_a_client_without_a_shutdown_handler_is_a_bug_not_a_missing_client() -> None:
    async def scenario() -> None:
        transport = MemoryTransport()
        server = Server(transport)
        bare = CommunicationManager(transport, "bare")
        await bare.send_business_message("server", REGISTRATION, {"node_id": "bare"})
        await server.shutdown()

    with pytest.raises(UnhandledMessageError, match="bare registered no handler for SHUTDOWN"):
        run(scenario())


def test_buggy_server_shutdown_is_stopped_by_the_guard_at_the_first_client() -> None:
    async def scenario() -> tuple[list[Client], list[TracedMessage]]:
        transport = MemoryTransport()
        trace: list[TracedMessage] = []
        server = BuggyServer(transport)
        clients = [Client(transport, f"client_{i}") for i in range(1, 4)]
        for client in clients:
            await client.start()
        transport.add_observer(trace.append)
        with pytest.raises(MechanismMismatchError, match="^SHUTDOWN was sent as an event to client_1,"):
            await server.run(rounds=1)
        return clients, trace

    clients, trace = run(scenario())
    assert [client.shutdown_received for client in clients] == [False, False, False]
    assert [client.rounds_trained for client in clients] == [[1], [1], [1]]
    assert trace[-1] == TracedMessage("event", "server", "client_1", SHUTDOWN)
    assert sum(1 for message in trace if message.message_type == SHUTDOWN) == 1


def test_server_refuses_to_run_without_clients() -> None:
    async def scenario() -> None:
        await Server(MemoryTransport()).run(rounds=1)

    with pytest.raises(ValueError, match="server has no registered client"):
        run(scenario())


# -------------------------------------------------------------------- demo


def demo_output(clients: int, rounds: int, bug: bool) -> tuple[int, str]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=120)
    code = run_demo(clients=clients, rounds=rounds, bug=bug, console=console)
    return code, buffer.getvalue()


def test_demo_correct_run_shows_the_trace_rounds_and_every_acknowledgement() -> None:
    code, output = demo_output(clients=5, rounds=3, bug=False)
    text = one_line(output)

    assert code == 0
    assert "5 clients, 3 rounds, correct server: SHUTDOWN sent as an rpc" in text
    assert "message trace (35 messages)" in text  # 5 x (registration, heartbeat, CLIENT_REGISTERED, 3 train, SHUTDOWN)
    assert re.search(r"│\s+1 │ rpc\s+│ client_1 -> server\s+│ registration", output)
    assert re.search(r"│ event\s+│ server -> client_3\s+│ CLIENT_REGISTERED", output)
    assert re.search(r"│ rpc\s+│ server -> client_5\s+│ SHUTDOWN", output)
    assert len(re.findall(r"│ rpc\s+│ server -> client_\d\s+│ train", output)) == 15
    assert re.findall(r"│ (\w+)\s+│ server -> client_\d\s+│ SHUTDOWN", output) == ["rpc"] * 5
    # local values 1..5: mean 3, so 1.5, 2.25, 2.625
    assert "round 1: global value 1.5" in text
    assert "round 2: global value 2.25" in text
    assert "round 3: global value 2.625" in text
    assert "CLIENT_REGISTERED delivered to 5/5 clients" in text
    assert "SHUTDOWN acknowledged by 5/5 clients: client_1, client_2, client_3, client_4, client_5" in text
    assert "missing: none" in text
    assert "MechanismMismatchError" not in text


def test_demo_bug_variant_shows_the_guard_catching_the_seeds_bug() -> None:
    code, output = demo_output(clients=5, rounds=3, bug=True)
    text = one_line(output)

    assert code == 1
    assert "BUGGY server: SHUTDOWN sent as an event" in text
    assert "message trace (31 messages)" in text  # stops at the first SHUTDOWN
    assert re.search(r"│ event\s+│ server -> client_1\s+│ SHUTDOWN <- rejected: MechanismMismatchError", output)
    assert "client_2 │ SHUTDOWN" not in output
    assert "MechanismMismatchError caught the bug" in text
    assert (
        "SHUTDOWN was sent as an event to client_1, which registered it only as an rpc handler "
        "(register_message_handler); send it with send_business_message, or register an event listener"
    ) in text
    assert "push_event would have found 0 listeners for SHUTDOWN" in text
    assert "SHUTDOWN acknowledged by 0/5 clients" in text
    assert "missing: client_1, client_2, client_3, client_4, client_5" in text
    assert "clients that received SHUTDOWN: 0/5" in text


def test_demo_rejects_impossible_arguments() -> None:
    code, output = demo_output(clients=0, rounds=3, bug=False)
    assert code == 2
    assert "need at least 1 client" in output


@pytest.mark.parametrize(
    ("option", "value", "limit"),
    [
        ("--clients", "99999999999999999999999", "1<=x<=1000"),
        ("--clients", "1001", "1<=x<=1000"),
        ("--rounds", "10001", "0<=x<=10000"),
    ],
)
def test_demo_bounds_clients_and_rounds_before_building_anything(option: str, value: str, limit: str) -> None:
    result = CliRunner().invoke(cli, ["demo", option, value])
    assert result.exit_code == 2
    assert f"Invalid value for '{option}': {value} is not in the range {limit}" in result.output

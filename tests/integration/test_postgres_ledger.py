"""The ledger contract on PostgreSQL, plus what only a shared database must do."""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from click.testing import CliRunner

from harness.cli import main
from syncengine.bootstrap import ConfigError, bootstrap
from syncengine.ledger import AbstractLedger, DuplicateTracking, Tracking, idempotency_key
from syncengine.ledger.postgres import PostgresLedger, split_store_url
from syncengine.ledger.records import LedgerUnavailable, XrefEntry
from syncengine.runtime.coordination import CoordinationError, store_location
from tests.unit.syncengine.ledger_contract import T0, DurableLedgerContract, tracking

pytestmark = pytest.mark.services


class TestPostgresLedger(DurableLedgerContract):
    @pytest.fixture
    def ledger(self, postgres_url: str, schema: str) -> Iterator[PostgresLedger]:
        ledger = PostgresLedger(postgres_url, schema=schema)
        self._opened = [ledger]
        yield ledger
        for opened in self._opened:
            opened.close()

    def reopen(self, ledger: AbstractLedger) -> AbstractLedger:
        assert isinstance(ledger, PostgresLedger)
        reopened = PostgresLedger(ledger.url, schema=ledger.schema)
        self._opened.append(reopened)
        return reopened


def _terminate(postgres_url: str, application_name: str) -> int:
    """Kill every server process serving a ledger, as an operator or a failover would; return how many."""
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        rows = connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE application_name = %s AND pid <> pg_backend_pid()",
                                  (application_name,)).fetchall()
    return sum(1 for (killed,) in rows if killed)


def _count(postgres_url: str, schema: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'SET search_path TO "{schema}"')
        return connection.execute(query).fetchall()


def test_an_idle_connection_killed_by_the_server_is_replaced_transparently(postgres_url: str, schema: str) -> None:
    ledger = PostgresLedger(postgres_url, schema=schema)
    try:
        ledger.set_cursor("psa", "1")
        assert _terminate(postgres_url, ledger.application_name) == 1
        assert ledger.cursor("psa") == "1"
        assert _terminate(postgres_url, ledger.application_name) == 1
        ledger.set_cursor("psa", "2")
        assert _terminate(postgres_url, ledger.application_name) == 1
        with ledger.unit_of_work():
            ledger.set_applied_version("contract:OPP-1", 2)
        assert (ledger.cursor("psa"), ledger.applied_version("contract:OPP-1")) == ("2", 2)
        assert ledger.lost_connections == 3
    finally:
        ledger.close()


def test_a_unit_of_work_cut_short_by_a_lost_connection_left_nothing_and_says_so(postgres_url: str,
                                                                                schema: str) -> None:
    ledger = PostgresLedger(postgres_url, schema=schema)
    try:
        with pytest.raises(LedgerUnavailable) as raised, ledger.unit_of_work():
            ledger.link("contract", "erp", "CON-1", "deal:OPP-1")
            _terminate(postgres_url, ledger.application_name)
            ledger.record_processed(tracking())
        assert raised.value.rolled_back
        assert not ledger.already_processed("psa", "TE-000001", 1, "billing.handle_approved")
        assert ledger.external_id("contract", "erp", "deal:OPP-1") is None
    finally:
        ledger.close()


class LostCommitAnswer:
    """A connection whose COMMIT reaches the server (or not) but whose answer never comes back."""

    def __init__(self, connection: psycopg.Connection[Any], *, committed: bool) -> None:
        self.connection = connection
        self.committed = committed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)

    def execute(self, query: Any, parameters: Any = None) -> Any:
        if query == "COMMIT":
            if self.committed:
                self.connection.execute("COMMIT")
            self.connection.close()
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return self.connection.execute(query, parameters)

    def cursor(self) -> Any:
        return LostCommitAnswerCursor(self, self.connection.cursor())


class LostCommitAnswerCursor:
    """A cursor of a LostCommitAnswer connection: its COMMIT goes the connection's way."""

    def __init__(self, connection: LostCommitAnswer, cursor: psycopg.Cursor[Any]) -> None:
        self.lost = connection
        self.cursor = cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cursor, name)

    def execute(self, query: Any, parameters: Any = None) -> Any:
        if query == "COMMIT":
            return self.lost.execute(query)
        self.cursor.execute(query, parameters)
        return self


def _lose_next_commit_answer(ledger: PostgresLedger, *, committed: bool) -> None:
    ledger._local.connection = LostCommitAnswer(ledger._connection(), committed=committed)


def _dead_letter(ledger: PostgresLedger, message_id: str) -> None:
    ledger.dead_letter(flow="billing", key="", message_id=message_id, reason="r", detail="", payload={}, now=T0)


def test_a_commit_whose_answer_was_lost_is_settled_by_asking_the_server(postgres_url: str, schema: str) -> None:
    ledger = PostgresLedger(postgres_url, schema=schema)
    try:
        _lose_next_commit_answer(ledger, committed=True)
        with ledger.unit_of_work():  # it did commit: no error, nothing to run again
            _dead_letter(ledger, "m1")
        _lose_next_commit_answer(ledger, committed=True)
        _dead_letter(ledger, "m2")  # standalone: not re-run, so not written twice
        _lose_next_commit_answer(ledger, committed=False)
        _dead_letter(ledger, "m3")  # standalone, surely rolled back: re-run once on a new connection
        _lose_next_commit_answer(ledger, committed=False)
        with pytest.raises(LedgerUnavailable) as raised, ledger.unit_of_work():
            _dead_letter(ledger, "m4")
        assert raised.value.rolled_back
        assert [letter.message_id for letter in ledger.dead_letters()] == ["m1", "m2", "m3"]
        assert ledger.lost_connections == 4
    finally:
        ledger.close()


@pytest.mark.slow
def test_a_unit_of_work_tracking_messages_learns_its_transaction_id_from_the_insert(postgres_url: str,
                                                                                    schema: str) -> None:
    ledger = PostgresLedger(postgres_url, schema=schema)
    try:
        before = ledger.statements
        with ledger.unit_of_work():
            ledger.record_processed_many([tracking(f"TE-{number}") for number in range(5)])
        assert ledger.statements - before == 3  # BEGIN, the insert, COMMIT: no question for the transaction id
        assert ledger.processed_among([("psa", "TE-4", 1, "billing.handle_approved")])
    finally:
        ledger.close()


def test_a_feed_read_learns_its_transaction_id_from_the_cursor_write(postgres_url: str, schema: str) -> None:
    ledger = PostgresLedger(postgres_url, schema=schema)
    try:
        before = ledger.statements
        with ledger.unit_of_work():
            ledger.record_received_many("psa", ["psa-1", "psa-2"], T0)
            ledger.set_cursor("psa", "c-2")
        assert ledger.statements - before == 4  # BEGIN, the two writes, COMMIT: no question for the transaction id
        assert ledger.cursor("psa") == "c-2"
    finally:
        ledger.close()


_WRITES: dict[str, tuple[Callable[[PostgresLedger], None], Callable[[PostgresLedger], bool]]] = {
    # a write whose statement reads the transaction id (so COMMIT does not ask), and how to tell it landed
    "cursor": (lambda ledger: ledger.set_cursor("psa", "c-2"), lambda ledger: ledger.cursor("psa") == "c-2"),
    "tracking": (lambda ledger: ledger.record_processed_many([tracking("TE-1"), tracking("TE-2")]),
                 lambda ledger: ledger.already_processed("psa", "TE-2", 1, "billing.handle_approved")),
}


@pytest.mark.parametrize("write", sorted(_WRITES))
@pytest.mark.parametrize("committed", [True, False])
def test_a_commit_whose_answer_was_lost_is_settled_by_the_id_the_write_read(
        postgres_url: str, schema: str, committed: bool, write: str) -> None:
    ledger = PostgresLedger(postgres_url, schema=schema)
    written, landed = _WRITES[write]
    try:
        _lose_next_commit_answer(ledger, committed=committed)
        try:
            with ledger.unit_of_work():
                written(ledger)
        except LedgerUnavailable as error:
            assert not committed and error.rolled_back
        else:
            assert committed
        assert landed(ledger) is committed
        assert ledger.lost_connections == 1
    finally:
        ledger.close()


def test_connections_killed_mid_run_lose_and_duplicate_nothing(postgres_url: str, schema: str) -> None:
    ledger = PostgresLedger(postgres_url, schema=schema)
    messages = 0  # at least 200, and on until the kills did what the asserts below need (a fast machine
    # needs more)
    applied: dict[str, int] = {}  # the target system: an Idempotency-Key is applied once, replayed after
    handler_runs = 0
    done = threading.Event()
    enough_kills = threading.Event()
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            process()
        except BaseException as error:  # noqa: BLE001 - the test thread reports it below
            failures.append(error)
        finally:
            done.set()

    def process() -> None:
        nonlocal handler_runs, messages
        while messages < 20_000 and (messages < 200 or not enough_kills.is_set()):
            source_id = f"TE-{messages:06d}"
            messages += 1
            while True:  # the engine's retry of a transient failure, without its backoff
                try:
                    with ledger.unit_of_work():
                        if ledger.already_processed("psa", source_id, 1, "billing.h"):
                            break
                        handler_runs += 1
                        key = idempotency_key("psa", source_id, 1, "billable-transaction")
                        applied.setdefault(key, len(applied) + 1)
                        ledger.link("billable", "erp", f"BT-{applied[key]}", f"entry:{source_id}")
                        ledger.record_processed(Tracking("psa", source_id, 1, "billing.h", T0))
                    break
                except LedgerUnavailable:
                    continue
            # Standalone writes that are not idempotent: a commit applied twice would show.
            ledger.dead_letter(flow="billing", key="", message_id=source_id, reason="r", detail="", payload={},
                               now=T0)
            ledger.record_exception(flow="billing", key="", message_id=source_id, reason="r", detail="",
                                    payload={}, now=T0)

    thread = threading.Thread(target=worker)
    thread.start()
    kills = 0
    try:
        while not done.wait(0.15):
            kills += _terminate(postgres_url, ledger.application_name)
            # Go on until the kills hit the ledger often enough, at least once inside a unit of work.
            if kills >= 10 and ledger.lost_connections >= 10 and handler_runs > messages:
                enough_kills.set()
        thread.join()
    finally:
        ledger.close()
    assert failures == []

    assert kills >= 10 and ledger.lost_connections >= 10
    assert handler_runs > messages  # some units of work were cut short and ran again
    assert _count(postgres_url, schema, "SELECT count(*), count(DISTINCT source_id) FROM tracking") == [
        (messages, messages)]
    assert _count(postgres_url, schema, "SELECT count(*), count(DISTINCT canonical_key) FROM xref") == [
        (messages, messages)]
    assert _count(postgres_url, schema, "SELECT count(*), count(DISTINCT message_id) FROM dead_letters") == [
        (messages, messages)]
    assert _count(postgres_url, schema, "SELECT count(*), max(attempts) FROM exceptions") == [(messages, 1)]


def _process_messages(url: str, schema: str, messages: int) -> None:
    ledger = PostgresLedger(url, schema=schema)
    try:
        for number in range(messages):
            source_id = f"TE-{number:06d}"
            try:
                with ledger.unit_of_work():
                    if not ledger.already_processed("psa", source_id, 1, "billing.h"):
                        # An effect that would show twice: it commits with the tracking record or not at all.
                        ledger.dead_letter(flow="billing", key="", message_id=source_id, reason="effect",
                                           detail="", payload={}, now=T0)
                        ledger.record_processed(Tracking("psa", source_id, 1, "billing.h", T0))
            except DuplicateTracking:
                pass
            ledger.record_exception(flow="billing", key="", message_id=f"shared-{number % 10}", reason="r",
                                    detail="", payload={}, now=T0)
    finally:
        ledger.close()


@pytest.mark.slow
def test_worker_processes_sharing_a_schema_apply_each_message_once(postgres_url: str, schema: str) -> None:
    messages, workers = 200, 3
    PostgresLedger(postgres_url, schema=schema).close()
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_process_messages, args=(postgres_url, schema, messages))
                 for _ in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    assert _count(postgres_url, schema, "SELECT count(*), count(DISTINCT message_id) FROM dead_letters") == [
        (messages, messages)]
    assert _count(postgres_url, schema, "SELECT count(*) FROM tracking") == [(messages,)]
    assert _count(postgres_url, schema, "SELECT count(*), sum(attempts) FROM exceptions") == [
        (10, messages * workers)]


def test_bootstrap_selects_the_postgresql_ledger(postgres_url: str, schema: str) -> None:
    engine = bootstrap({"ledger": "postgresql", "store_url": postgres_url, "ledger_schema": schema})
    ledger = engine.ports.ledger
    assert isinstance(ledger, PostgresLedger) and ledger.schema == schema
    ledger.close()


def test_bootstrap_names_a_database_that_is_not_there(postgres_url: str) -> None:
    with pytest.raises(ConfigError, match=r"^ledger_path: cannot reach PostgreSQL: .*no_such_db"):
        bootstrap({"ledger": "postgresql", "ledger_path": postgres_url.rsplit("/", 1)[0] + "/no_such_db"})


def test_operators_list_a_postgresql_store_by_url(postgres_url: str, schema: str) -> None:
    ledger = PostgresLedger(postgres_url, schema=schema)
    ledger.record_exception(flow="billing", key="project:PRJ-1", message_id="m", reason="invalid-dimension",
                            detail="cost center 999", payload={}, now=T0)
    ledger.close()
    result = CliRunner().invoke(main, ["engine", "exceptions", "--store", f"{postgres_url}?schema={schema}", "--json"])
    assert result.exit_code == 0, result.output
    assert [(item["id"], item["reason"]) for item in json.loads(result.stdout)] == [("EXC-000001", "invalid-dimension")]


def test_a_store_url_may_turn_synchronous_commit_off_for_the_ledger_sessions(postgres_url: str, schema: str) -> None:
    url, named = split_store_url(f"{postgres_url}?schema={schema}&synchronous_commit=off")
    ledger = PostgresLedger(url, schema=named)
    try:
        ledger.record_processed(tracking())
        assert ledger._execute("SHOW synchronous_commit").fetchone() == ("off",)
        assert ledger.already_processed("psa", "TE-000001", 1, "billing.handle_approved")
    finally:
        ledger.close()
    default = PostgresLedger(postgres_url, schema=schema)
    try:
        assert default._execute("SHOW synchronous_commit").fetchone() == ("on",)
    finally:
        default.close()


def test_a_store_url_with_a_bad_synchronous_commit_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="synchronous_commit: expected on or off, got 'sometimes'"):
        split_store_url("postgresql://postgres@127.0.0.1/test?synchronous_commit=sometimes")
    with pytest.raises(CoordinationError, match=r"--store .*synchronous_commit: expected on or off"):
        store_location("postgresql://postgres@127.0.0.1/test?synchronous_commit=sometimes")
    url, schema = store_location("postgresql://postgres@127.0.0.1/test?schema=s1&options=-c%20work_mem%3D8MB"
                                 "&synchronous_commit=OFF")
    assert schema == "s1"
    assert parse_qs(urlsplit(url).query) == {"options": ["-c work_mem=8MB -c synchronous_commit=off"]}


def test_a_committed_link_is_answered_again_without_asking_the_server(postgres_url: str, schema: str) -> None:
    ledger, other = PostgresLedger(postgres_url, schema=schema), PostgresLedger(postgres_url, schema=schema)
    try:
        ledger.link("project", "psa", "PRJ-1", "deal:OPP-1")
        ledger.link_many([XrefEntry("project", "erp", "P-9", "deal:OPP-1")])
        assert other.external_id("project", "psa", "deal:OPP-1") == "PRJ-1"  # another worker reads it once
        sent = ledger.statements, other.statements
        assert ledger.canonical_key("project", "psa", "PRJ-1") == "deal:OPP-1"
        assert ledger.external_id("project", "psa", "deal:OPP-1") == "PRJ-1"
        assert ledger.external_ids("project", "erp", ["deal:OPP-1"]) == {"deal:OPP-1": "P-9"}
        assert other.canonical_key("project", "psa", "PRJ-1") == "deal:OPP-1"
        assert (ledger.statements, other.statements) == sent
        assert ledger.external_ids("project", "erp", ["deal:OPP-1", "deal:OPP-2"]) == {"deal:OPP-1": "P-9"}
        assert ledger.statements == sent[0] + 1, "only what it does not know yet is asked for"
    finally:
        ledger.close()
        other.close()


def test_a_link_whose_unit_of_work_rolled_back_is_not_remembered(postgres_url: str, schema: str) -> None:
    ledger = PostgresLedger(postgres_url, schema=schema)
    try:
        with pytest.raises(RuntimeError), ledger.unit_of_work():
            ledger.link("project", "psa", "PRJ-1", "deal:OPP-1")
            ledger.link_many([XrefEntry("project", "erp", "P-9", "deal:OPP-1")])
            assert ledger.canonical_key("project", "psa", "PRJ-1") == "deal:OPP-1"  # its own write, uncommitted
            raise RuntimeError("the handler failed")
        assert ledger.canonical_key("project", "psa", "PRJ-1") is None
        assert ledger.external_ids("project", "erp", ["deal:OPP-1"]) == {}
        ledger.link("project", "psa", "PRJ-1", "deal:OPP-2")  # free to be linked otherwise
        assert ledger.external_id("project", "psa", "deal:OPP-2") == "PRJ-1"
    finally:
        ledger.close()

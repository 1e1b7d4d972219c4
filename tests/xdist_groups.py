"""How `pytest -n 2 --dist loadscope` groups the suite: the groups, and a scheduler that keeps them whole.

pytest-xdist's own loadscope scheduler keys its work by node id, and the fuzz tests' items share one
node id per module (schemathesis's generated tests under pytest 9): it ran one of each and dropped
the rest without a word (1,788 of 1,961 tests, all "passed"). This scheduler is the same but keys
the work by the item's index in the collection, which is unique.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

RABBITMQ_MODULES = frozenset({
    "tests/integration/test_bus_rabbitmq.py", "tests/integration/test_distributed_engine.py",
    "tests/integration/test_distributed_faults.py", "tests/integration/test_distributed_redrive.py",
    "tests/integration/test_distributed_startup.py", "tests/integration/test_live_mode.py",
})
"""The modules with tests of the RabbitMQ broker (tests/conftest.py checks it as a worker collects)."""
PACT_MODULES = ("tests/contract/test_consumer_", "tests/contract/test_pact_files.py")


def group_of(nodeid: str) -> str:
    """Return the group a test runs in (a group runs whole, on one worker, in collection order).

    A module is a group, so its module-scoped fixtures are built once. Tests sharing something beyond
    a module run together: every module with tests of the RabbitMQ broker (one stops and restarts it,
    which would cut off another test's connections), and the pact consumer tests with test_pact_files
    (it compares the pact files the consumer tests wrote in the same process with the committed ones).
    """
    module = nodeid.split("::", 1)[0]
    if module in RABBITMQ_MODULES:
        return "rabbitmq"
    if module.startswith(PACT_MODULES):
        return "pacts"
    return module


class GroupScheduling(LoadScopeScheduling):
    """pytest-xdist's loadscope scheduling by `group_of`, its work keyed by collection index, not node id."""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid)

    def schedule(self) -> None:
        """Queue the groups, largest first, and give each worker one (as LoadScopeScheduling.schedule)."""
        assert self.collection_is_completed
        if self.collection is not None:
            for node in self.nodes:
                self._reschedule(node)
            return
        if not self._check_nodes_have_same_collection():
            self.log("**Different tests collected, aborting run**")
            return
        self.collection = list(next(iter(self.registered_collections.values())))
        if not self.collection:
            return
        groups: dict[str, dict[Any, bool]] = {}
        for index, nodeid in enumerate(self.collection):
            groups.setdefault(group_of(nodeid), {})[index] = False
        for name, indexes in sorted(groups.items(), key=lambda item: -len(item[1])):
            self.workqueue[name] = indexes
        for node in self.nodes[len(self.workqueue):]:
            self.assigned_work.pop(node)
            node.shutdown()
        for node in self.nodes:
            self._assign_work_unit(node)
        for node in self.nodes:
            self._reschedule(node)
        if not self.workqueue:
            for node in self.nodes:
                node.shutdown()

    def _assign_work_unit(self, node: Any) -> None:
        name, indexes = self.workqueue.popitem(last=False)
        self.assigned_work.setdefault(node, {})[name] = indexes
        node.send_runtest_some([index for index, done in indexes.items() if not done])

    def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
        """Mark a test done by its index."""
        self.assigned_work[node][group_of(self.collection[item_index])][item_index] = True
        self._reschedule(node)

    def remove_node(self, node: Any) -> str | None:
        """Remove a node; when it crashed, queue its unfinished groups again and return the test it was running."""
        workload = self.assigned_work.pop(node)
        pending = [index for indexes in workload.values() for index, done in indexes.items() if not done]
        if not pending:
            return None
        self.workqueue.update(workload)
        for other in self.assigned_work:
            self._reschedule(other)
        return str(self.collection[pending[0]])

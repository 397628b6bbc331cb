"""Routing processes: each routes its share of every batch, sent and answered through a pipe the event loop watches.

Not a ProcessPoolExecutor: its results come back through helper threads, and a thread waits for the
interpreter lock while the event loop is busy, which added tens of milliseconds to every batch. Here
the loop writes a request to a process that waits for one, and wakes up when the answer is readable. Processes are
spawned, not forked: the worker runs threads (aiokafka, faust) that a fork would copy mid-flight.
"""

import asyncio
import atexit
import gc
import multiprocessing
import pickle
import signal
import time
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, TypeVar

import structlog

from router.classify.model import ModelFiles
from router.crisis.live import OpenIncidents
from router.errors import RouterError
from router.logs import configure_logging
from router.pipeline import Record
from router.rules import ConfigHolder, RoutingConfig
from router.rules.config import compile_text
from router.rules.yamltext import YamlText
from router.settings import Settings
from router.worker.models import ModelHolder
from router.worker.routing import InlineRouting, RoutedBatch, Shard, load_classifier

log = structlog.get_logger("router.worker")
T = TypeVar("T")

STOP_SECONDS = 5.0
# What a routing process was asked to do, as its error says it.
_DOING = {"restore": "restoring conversations", "model": "loading the model"}


class RoutingProcessFailed(RouterError):
    """A routing process died or could not route a batch: the batches it held are not delivered."""


@dataclass(frozen=True, slots=True)
class ConfigText:
    """A config as the holder compiled it: what a routing process needs to compile the very same one."""

    path: Path
    hash: str
    data: bytes


class ProcessRouting:
    """Splits each batch between the routing processes by record key, so that one thread always meets one process.

    Each process routes its shares in the order they were read: a thread's mentions are routed in order,
    by the one process that holds the thread's state.
    """

    def __init__(self, settings: Settings, holder: ConfigHolder, models: ModelHolder):
        self._holder, self._models, self._model = holder, models, models.current
        context = multiprocessing.get_context("spawn")
        self._children = [_Child.start(context, settings, number, self._model)
                          for number in range(settings.routing_processes)]
        # However the worker exits, the pipes close before multiprocessing's own exit handler joins the processes
        # (handlers run last registered first): they ignore SIGTERM, and would wait for their pipe's end forever.
        atexit.register(self.stop)
        try:  # each loads the model before the worker joins the group: a broken model stops the worker here
            self.model_version = {child.wait_ready() for child in self._children}.pop()
        except RouterError:
            self.stop()
            raise
        self._config: ConfigText | None = None
        self.incidents = OpenIncidents()  # kept up to date by the worker's incident watch

    async def route(self, records: Sequence[Record]) -> RoutedBatch:
        """Route a batch across every process at once: each takes the records whose key is its share."""
        config = self._config_text(self._holder.current)
        incidents = self.incidents.current()  # a few scopes at most: sent with every share
        shares = _shares(records, [record.key for record in records], len(self._children))
        reloads = self._send_model()
        answers = [child.submit(("route", share, config, incidents))
                   for child, share in zip(self._children, shares) if share]
        return RoutedBatch.joined((await asyncio.gather(*reloads, *answers))[len(reloads):])

    async def restore(self, entries: Sequence[tuple[bytes | None, bytes | None]]) -> int:
        """Hand each changelog entry to the process that routes its key; the number refused."""
        shares = _shares(entries, [key for key, _ in entries], len(self._children))
        answers = [child.submit(("restore", share)) for child, share in zip(self._children, shares) if share]
        return sum(await asyncio.gather(*answers))

    async def watch(self) -> None:
        """Raise as soon as a routing process dies, busy or idle: a worker that cannot route stops."""
        loop = asyncio.get_running_loop()
        died: asyncio.Future[_Child] = loop.create_future()
        for child in self._children:
            loop.add_reader(child.sentinel, _first, died, child)
        try:
            raise (await died).died()
        finally:
            for child in self._children:
                loop.remove_reader(child.sentinel)

    def stop(self) -> None:
        atexit.unregister(self.stop)
        for child in self._children:
            child.stop()

    def _send_model(self) -> "list[asyncio.Future[Any]]":
        """A reloaded model goes to every process ahead of the shares that follow: each answers them in turn."""
        if self._models.current is self._model:
            return []
        self._model = self._models.current
        return [child.submit(("model", self._model)) for child in self._children]

    def _config_text(self, current: RoutingConfig) -> ConfigText:
        if self._config is None or self._config.hash != current.hash:
            self._config = ConfigText(current.path, current.hash, self._holder.current_data)
        return self._config


class _Child:
    """One routing process, the parent's end of its pipe, and the shares sent to it, answered in turn."""

    def __init__(self, process: BaseProcess, connection: Connection, number: int):
        self._process, self._connection, self._number = process, connection, number
        # Requests waiting to be sent; the first is being answered while `_busy`. One at a time: a process that is
        # not reading would block the loop's write to its pipe.
        self._queue: deque[tuple[bytes, asyncio.Future[Any]]] = deque()
        self._busy = False
        self._reading = False
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop that watches the pipe, once submitted to

    @classmethod
    def start(cls, context: Any, settings: Settings, number: int, model: ModelFiles) -> "_Child":
        parent_end, child_end = context.Pipe()
        process = context.Process(target=_serve, args=(child_end, settings, model), name=f"routing-{number}",
                                  daemon=True)
        process.start()
        child_end.close()  # the child's end lives in the child only: it reads end-of-file when the worker dies
        return cls(process, parent_end, number)

    @property
    def sentinel(self) -> int:
        """Readable once the process has ended."""
        return self._process.sentinel

    def wait_ready(self) -> str:
        """The model version the process loaded, or the error that stopped it loading."""
        return _answer(self._receive_blocking())

    def submit(self, request: tuple) -> "asyncio.Future[Any]":
        """The answer to a request, once the process has answered every request submitted before it."""
        loop = asyncio.get_running_loop()
        if not self._reading:
            loop.add_reader(self._connection.fileno(), self._receive)
            self._reading, self._loop = True, loop
        answer: asyncio.Future[Any] = loop.create_future()
        self._queue.append((pickle.dumps(request, pickle.HIGHEST_PROTOCOL), answer))
        if not self._busy:
            self._send_next()
        return answer

    def stop(self) -> None:
        """Close the pipe, so that the process reads end-of-file and exits; killed if it has not in STOP_SECONDS.

        Once is enough: later calls, such as the one at interpreter exit, find the pipe closed.
        """
        if self._connection.closed:
            return
        self._unwatch()
        self._connection.close()
        self._process.join(STOP_SECONDS)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()

    def _send_next(self) -> None:
        self._busy = bool(self._queue)
        if not self._busy:
            return
        try:  # the process is waiting for work, so it reads at once and the write does not hold the loop long
            self._connection.send_bytes(self._queue[0][0])
        except OSError:
            self._fail_all(self.died())

    def _receive(self) -> None:
        try:
            data = self._receive_blocking()
        except RoutingProcessFailed as error:
            self._fail_all(error)
            return
        _, answer = self._queue.popleft()
        try:
            answer.set_result(_answer(data))
        except RouterError as error:
            answer.set_exception(error)
        self._send_next()

    def _fail_all(self, error: RouterError) -> None:
        self._unwatch()
        self._busy = False
        while self._queue:
            _, answer = self._queue.popleft()
            if not answer.done():
                answer.set_exception(error)

    def _unwatch(self) -> None:
        """The loop no longer reads the pipe; a loop closed already (at interpreter exit) has nothing to remove."""
        if self._reading and self._loop is not None:
            self._loop.remove_reader(self._connection.fileno())
        self._reading = False

    def _receive_blocking(self) -> bytes:
        try:
            return self._connection.recv_bytes()
        except (EOFError, OSError):
            raise self.died() from None

    def died(self) -> RoutingProcessFailed:
        self._process.join(1.0)
        return RoutingProcessFailed(f"routing process {self._number} exited with code {self._process.exitcode}")


def _shares(items: Sequence[T], keys: Sequence[bytes | None], count: int) -> list[list[T]]:
    """The items split by key: a key's items always go to the same share, in their order."""
    shares: list[list[T]] = [[] for _ in range(count)]
    for number, (item, key) in enumerate(zip(items, keys)):
        # An item without a key belongs to no thread: any share will do.
        shares[(zlib.crc32(key) if key is not None else number) % count].append(item)
    return shares


def _first(died: "asyncio.Future[_Child]", child: "_Child") -> None:
    if not died.done():
        died.set_result(child)


def _answer(data: bytes) -> Any:
    # Pickle only between the worker and the processes it started, never from outside.
    outcome, value = pickle.loads(data)
    if outcome == "error":
        raise RoutingProcessFailed(value)
    return value


def _serve(connection: Connection, settings: Settings, model: ModelFiles) -> None:
    """A routing process: load the model, then route each batch it is sent until its pipe closes."""
    # Ctrl-C, and a SIGTERM sent to the whole process group (systemd's default, `timeout`), reach us too: the
    # worker stops us once the batches in flight are delivered, and we exit when it closes the pipe or dies.
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    configure_logging(settings.log_format, settings.log_level)
    try:
        classifier = load_classifier(settings, model)
    except RouterError as error:
        connection.send_bytes(pickle.dumps(("error", str(error))))
        return
    connection.send_bytes(pickle.dumps(("ready", classifier.version)))
    gc.freeze()  # the model lives as long as the process: the garbage collector need not rescan it
    shard = Shard(settings, classifier)
    configs: dict[str, RoutingConfig] = {}
    while True:
        try:
            request = pickle.loads(connection.recv_bytes())
        except (EOFError, OSError):
            return  # the worker closed the pipe, or died
        answer: tuple[str, Any]
        try:
            if request[0] == "restore":
                answer = ("restored", shard.restore(request[1]))
            elif request[0] == "model":  # checked by the worker already: it loads
                shard.classifier = load_classifier(settings, request[1])
                answer = ("loaded", shard.classifier.version)
            else:
                answer = ("routed", shard.route(request[1], _compiled(configs, request[2]), request[3]))
        except Exception as error:  # noqa: BLE001 - reported to the worker, which stops without committing
            what = _DOING.get(request[0], "routing a batch")
            answer = ("error", f"{what} failed: {type(error).__name__}: {error}")
        try:
            connection.send_bytes(pickle.dumps(answer, pickle.HIGHEST_PROTOCOL))
        except OSError:
            return


def _compiled(configs: dict[str, RoutingConfig], text: ConfigText) -> RoutingConfig:
    config = configs.get(text.hash)
    if config is None:
        configs.clear()  # the previous version is not needed again: a reload only goes forward
        config = configs[text.hash] = compile_text(YamlText(text.path, text.data))
    return config


Routing = InlineRouting | ProcessRouting


def make_routing(settings: Settings, holder: ConfigHolder, models: ModelHolder) -> Routing:
    started = time.perf_counter()
    kind = ProcessRouting if settings.routing_processes else InlineRouting
    routing = kind(settings, holder, models)
    log.info("routing.ready", processes=settings.routing_processes, model_version=routing.model_version,
             load_s=round(time.perf_counter() - started, 2))
    return routing

"""Hot reload: a changed file is picked up, a broken one is refused and counted, the last good one runs on."""

import asyncio
import os
import threading

import pytest
from structlog.testing import capture_logs

from router.errors import ConfigError, RouterError
from router.metrics import CONFIG_RELOADS
from router.rules import ConfigHolder
from router.rules.config import compile_text

GOOD = """\
org_model: decentralized
departments: {sales: q.sales, marketing: q.marketing}
topics: {unassigned: q.none}
route:
  name: root
  owner: OWNER
"""


def write(path, text: str, tick: int) -> None:
    path.write_text(text)
    # Filesystem clocks are coarse: set the mtime explicitly so that every write looks new.
    os.utime(path, ns=(tick * 10**9, tick * 10**9))


def count(outcome: str) -> float:
    return CONFIG_RELOADS.labels(outcome=outcome)._value.get()


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "router.yaml"
    write(path, GOOD.replace("OWNER", "sales"), 1)
    return path


def test_the_first_load_must_succeed(tmp_path):
    path = tmp_path / "router.yaml"
    write(path, "org_model: nope\n", 1)
    with pytest.raises(ConfigError, match=r"router.yaml:1: the config is missing the required key \"departments\""):
        ConfigHolder(path)


def test_an_unchanged_file_is_not_reloaded(config_file):
    holder = ConfigHolder(config_file)
    first = holder.current
    assert holder.reload_if_changed() is False
    write(config_file, GOOD.replace("OWNER", "sales"), 2)  # touched, same bytes
    assert holder.reload_if_changed() is False
    assert holder.current is first


def test_a_changed_file_is_picked_up(config_file):
    holder = ConfigHolder(config_file)
    old_hash, loaded = holder.current.hash, count("loaded")
    write(config_file, GOOD.replace("OWNER", "marketing"), 2)
    with capture_logs() as logs:
        assert holder.reload_if_changed() is True
    assert holder.current.tree.settings.owner == "marketing"
    assert holder.current.hash != old_hash
    assert count("loaded") == loaded + 1
    assert logs[0]["event"] == "config.reloaded" and logs[0]["new_hash"] == holder.current.hash


def test_a_broken_file_is_refused_counted_logged_and_the_old_config_kept(config_file):
    holder = ConfigHolder(config_file)
    good, refused = holder.current, count("refused")
    write(config_file, GOOD.replace("OWNER", "sales") + "  contnue: true\n", 2)
    with capture_logs() as logs:
        assert holder.reload_if_changed() is False
    assert holder.current is good
    assert count("refused") == refused + 1
    assert logs[0]["log_level"] == "error"
    assert logs[0]["reason"] == f'{config_file}:7: route "root" has unknown key "contnue" (did you mean "continue"?)'
    assert logs[0]["kept_hash"] == good.hash
    # The same broken file is reported once, not on every poll.
    assert holder.reload_if_changed() is False
    assert count("refused") == refused + 1
    # Fixed: the new config takes over.
    write(config_file, GOOD.replace("OWNER", "marketing"), 3)
    assert holder.reload_if_changed() is True
    assert holder.current.tree.settings.owner == "marketing"


def test_a_deleted_file_is_refused_once_and_the_old_config_kept(config_file):
    holder = ConfigHolder(config_file)
    good, refused = holder.current, count("refused")
    config_file.unlink()
    assert holder.reload_if_changed() is False
    assert holder.reload_if_changed() is False
    assert holder.current is good
    assert count("refused") == refused + 1
    write(config_file, GOOD.replace("OWNER", "sales"), 5)  # restored unchanged: nothing to reload
    assert holder.reload_if_changed() is False
    assert holder.current is good


def test_a_file_swapped_in_by_rename_is_picked_up(config_file, tmp_path):
    write(config_file, GOOD.replace("OWNER", "sales    "), 1)
    holder = ConfigHolder(config_file)
    staged = tmp_path / "staged.yaml"
    write(staged, GOOD.replace("OWNER", "marketing"), 1)  # same size and mtime: only the inode differs
    os.replace(staged, config_file)
    assert holder.reload_if_changed() is True


async def test_a_reload_parses_in_another_thread_while_the_event_loop_runs(config_file, monkeypatch):
    holder = ConfigHolder(config_file)
    parsing, release = threading.Event(), threading.Event()
    threads = []

    def slow_compile(text):
        threads.append(threading.current_thread())
        parsing.set()
        # Released by a coroutine of the event loop: were the parse on the loop, nothing would release it.
        assert release.wait(timeout=30), "the event loop was blocked by the parse"
        return compile_text(text)

    monkeypatch.setattr("router.rules.reload.compile_text", slow_compile)
    write(config_file, GOOD.replace("OWNER", "marketing"), 2)
    reloading = asyncio.create_task(holder.reload(nothing_to_prepare))
    assert await asyncio.to_thread(parsing.wait, 30)
    assert holder.current.tree.settings.owner == "sales"  # not swapped while the parse runs
    release.set()
    assert await reloading is True
    assert threads and threads[0] is not threading.main_thread()
    assert holder.current.tree.settings.owner == "marketing"


async def test_a_new_config_is_prepared_before_it_takes_over(config_file):
    holder = ConfigHolder(config_file)
    seen = []

    async def create_topics(config):
        seen.append((config.tree.settings.owner, holder.current.tree.settings.owner))

    write(config_file, GOOD.replace("OWNER", "marketing"), 2)
    assert await holder.reload(create_topics) is True
    assert seen == [("marketing", "sales")]  # its topics were made while the old config still ran
    assert holder.current.tree.settings.owner == "marketing"
    assert await holder.reload(create_topics) is False and len(seen) == 1  # unchanged: nothing to prepare


async def test_a_config_whose_topics_cannot_be_made_is_kept_out_and_tried_again(config_file):
    holder = ConfigHolder(config_file)
    good, refused = holder.current, count("refused")

    async def broker_down(config):
        raise RouterError("cannot create topic q.marketing: Kafka error code 7")

    write(config_file, GOOD.replace("OWNER", "marketing"), 2)
    with capture_logs() as logs:
        assert await holder.reload(broker_down) is False
    assert holder.current is good and count("refused") == refused + 1
    assert "cannot create topic q.marketing" in logs[0]["reason"] and logs[0]["kept_hash"] == good.hash
    assert await holder.reload(nothing_to_prepare) is True  # the same file, unchanged, is tried again
    assert holder.current.tree.settings.owner == "marketing"


async def test_a_broken_file_is_refused_by_reload_too(config_file):
    holder = ConfigHolder(config_file)
    good = holder.current
    write(config_file, "tests: &x [*x]\n", 2)
    with capture_logs() as logs:
        assert await holder.reload(nothing_to_prepare) is False
    assert holder.current is good
    assert logs[0]["reason"] == f'{config_file}:1: invalid YAML: anchors and aliases are not allowed (found "&x"): ' \
                                "write each value out"


async def nothing_to_prepare(config) -> None:
    return None

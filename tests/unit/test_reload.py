"""Hot reload: a changed file is picked up, a broken one is refused and counted, the last good one runs on."""

import os

import pytest
from structlog.testing import capture_logs

from router.errors import ConfigError
from router.metrics import CONFIG_RELOADS
from router.rules import ConfigHolder

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

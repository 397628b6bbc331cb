"""Config and tests files are bounded: size, anchors and aliases, nesting; each refusal names the file and line."""

import resource
import subprocess
import sys
import textwrap

import pytest

from router.errors import ConfigError
from router.rules import load_config
from router.rules.yamltext import MAX_YAML_BYTES, MAX_YAML_DEPTH, YamlText

CONFIG = """\
org_model: decentralized
departments: {sales: q.sales}
topics: {unassigned: q.none}
route:
  name: root
  owner: sales
"""
# Nine levels of nine aliases: 9**9 (387 million) strings once expanded, from under 600 bytes.
LAUGHS = "\n".join(
    ['      a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"      {name}: &{name} [{', '.join([f'*{prev}'] * 9)}]" for prev, name in zip("abcdefgh", "bcdefghi")])
BOMB_TESTS = f"""\
tests:
  - name: laughs
    label: other
    mention:
      source: twitter
      text: hi
{LAUGHS}
    expect: {{owner: sales}}
"""
MEMORY_LIMIT = 256 * 1024 * 1024  # check-config with forced labels needs a fifth of it; the bomb, gigabytes


def refusal(path, data: bytes) -> str:
    path.write_bytes(data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_a_billion_laughs_tests_file_is_refused_at_its_first_anchor_within_small_memory(tmp_path):
    (tmp_path / "c.yaml").write_text(CONFIG)
    tests = tmp_path / "c.tests.yaml"
    tests.write_text(BOMB_TESTS)
    assert len(BOMB_TESTS) < 1000
    # A child under an address-space limit: should the bomb expand again, it fails there, not on this machine.
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from router.cli import main; sys.exit(main(sys.argv[1:]))",
         "check-config", "--test", str(tmp_path / "c.yaml")],
        capture_output=True, text=True, timeout=120,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT)))
    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout == (f'{tmp_path / "c.yaml"}: FAILED: {tests}:7: invalid YAML: anchors and aliases are not '
                           'allowed (found "&a"): write each value out\n')


def test_an_alias_in_a_config_is_refused_with_its_line(tmp_path):
    config = CONFIG.replace("  owner: sales", "  owner: &who sales\n  priority: *who")
    message = refusal(tmp_path / "c.yaml", config.encode())
    assert message == f'{tmp_path / "c.yaml"}:6: invalid YAML: anchors and aliases are not allowed (found "&who"): ' \
                      "write each value out"


def test_a_merge_key_needs_an_alias_and_is_refused(tmp_path):
    config = CONFIG + "  routes:\n    - name: r\n      <<: *base\n"
    assert 'found "*base"' in refusal(tmp_path / "c.yaml", config.encode())


def test_an_oversized_config_is_refused_before_parsing(tmp_path):
    # Over the limit by one byte, and not even YAML past the first line: the size alone refuses it.
    data = CONFIG.encode() + b"#" + b"\x00" * (MAX_YAML_BYTES - len(CONFIG))
    assert len(data) == MAX_YAML_BYTES + 1
    assert refusal(tmp_path / "c.yaml", data) == (
        f"{tmp_path / 'c.yaml'}:0: the file is {MAX_YAML_BYTES + 1} bytes, over the limit of 1048576 bytes (1 MiB) "
        "for a config or tests file")


def test_a_config_at_the_limit_is_read(tmp_path):
    data = CONFIG.encode() + b"#" * (MAX_YAML_BYTES - len(CONFIG) - 1) + b"\n"
    assert len(data) == MAX_YAML_BYTES
    (tmp_path / "c.yaml").write_bytes(data)
    assert load_config(tmp_path / "c.yaml").org_model == "decentralized"


def test_bytes_over_the_limit_are_refused_however_they_came(tmp_path):
    with pytest.raises(ConfigError, match=r"^x.yaml:0: the file is 1048577 bytes, over the limit"):
        YamlText("x.yaml", b"#" * (MAX_YAML_BYTES + 1)).parse()


def test_an_oversized_tests_file_is_refused(tmp_path, capsys):
    from router.cli import main

    (tmp_path / "c.yaml").write_text(CONFIG)
    (tmp_path / "c.tests.yaml").write_bytes(b"tests:\n" + b" " * MAX_YAML_BYTES)
    assert main(["check-config", "--test", str(tmp_path / "c.yaml")]) == 1
    assert f"{tmp_path / 'c.tests.yaml'}:0: the file is {MAX_YAML_BYTES + 7} bytes, over the limit" in \
        capsys.readouterr().out


def test_deep_nesting_is_refused_where_it_goes_too_deep(tmp_path):
    nested = "[" * (MAX_YAML_DEPTH + 5) + "]" * (MAX_YAML_DEPTH + 5)
    message = refusal(tmp_path / "c.yaml", (CONFIG + f"extra: {nested}\n").encode())
    assert message == f"{tmp_path / 'c.yaml'}:7: invalid YAML: values nest more than {MAX_YAML_DEPTH} levels deep"


def test_the_deepest_shipped_shape_is_far_from_the_depth_limit(tmp_path):
    routes = "route:\n  name: root\n  owner: sales\n"
    for depth in range(20):  # twenty levels of routes, each two YAML levels deeper
        routes += textwrap.indent(f"routes:\n  - name: r{depth}\n    match: [source = twitter]\n", "  " * (2 * depth + 1))
    (tmp_path / "c.yaml").write_text(CONFIG.split("route:")[0] + routes)
    assert load_config(tmp_path / "c.yaml").tree.name == "root"

"""The command line loads only what a command uses."""

import json
import subprocess
import sys

from router.settings import REPO_ROOT

HEAVY = ("sklearn", "faust", "mode", "aiokafka")
CHECK_CONFIG = """
import json, sys
from router.cli import main
code = main(["check-config", "--tree", "config/router.yaml"])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_check_config_loads_neither_scikit_learn_nor_faust():
    done = subprocess.run([sys.executable, "-c", CHECK_CONFIG], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True)
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 0
    loaded = {name.partition(".")[0] for name in result["modules"]}
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))

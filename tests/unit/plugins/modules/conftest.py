"""Run a module's main() in the test's process, with ansible-core's own way of passing module arguments."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import _internal
from ansible.module_utils.common import warnings
from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def run_main(capsys, monkeypatch):
    """run_main(module, args, check_mode=False) -> the result dict main() printed, "failed" set on fail_json."""
    # Warnings are process-wide and deduplicated: each test starts with none. Once a test of a controller
    # plugin has imported ansible's controller code, warnings would go to its display, not into the result.
    monkeypatch.setattr(_internal, "is_controller", False)
    monkeypatch.setattr(warnings, "_global_warnings", {})
    monkeypatch.setattr(warnings, "_global_deprecations", {})

    def run(module, args, check_mode=False):
        with patch_module_args({**args, "_ansible_check_mode": check_mode}), pytest.raises(SystemExit):
            module.main()
        return json.loads(capsys.readouterr().out)

    return run

"""scripts/check_figures.py: the registry, the comparison, the prose check and the exit statuses."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


cf = _load("check_figures", REPO / "scripts" / "check_figures.py")
PY = sys.executable


def figure(**overrides):
    values = dict(
        id="f",
        run="r",
        value=100.0,
        tolerance=0.0,
        relative=False,
        machine_dependent=False,
        commit="abc1234",
        where=[{"file": "DOC.md", "text": "100"}],
        regex=r"rate (\S+)",
    )
    values.update(overrides)
    return cf.Figure(**values)


def test_tolerance_absolute_and_relative():
    assert cf.compare(figure(tolerance=2.0), 102.0).status == cf.OK
    assert cf.compare(figure(tolerance=2.0), 97.9).status == cf.STALE
    relative = figure(tolerance=0.15, relative=True)
    assert cf.compare(relative, 115.0).status == cf.OK
    assert cf.compare(relative, 84.0).status == cf.STALE
    assert cf.parse_tolerance("15%", "x") == (0.15, True)
    assert cf.parse_tolerance(0.005, "x") == (0.005, False)


def test_rounded_value_at_the_edge_of_an_absolute_tolerance_is_fresh():
    # documented 0.62 with ±0.005: 0.615 and 0.625 both print as 0.62 (float error must not flip it)
    f = figure(value=0.62, tolerance=0.005)
    assert cf.compare(f, 0.615).status == cf.OK
    assert cf.compare(f, 0.625).status == cf.OK
    assert cf.compare(f, 0.626).status == cf.STALE


def test_machine_dependent_difference_is_reported_not_failed_unless_strict():
    f = figure(machine_dependent=True, tolerance=0.1, relative=True)
    check = cf.compare(f, 50.0)
    assert check.status == cf.DIFFERS and "off by -50" in check.detail
    assert not cf.failed([check])
    assert cf.compare(f, 50.0, strict=True).status == cf.STALE
    assert cf.failed([cf.compare(f, 50.0, strict=True)])


def test_missing_figure_fails():
    check = cf.compare(figure(), None)
    assert check.status == cf.MISSING and cf.failed([check])
    assert cf.extract(figure(regex=r"speed (\d+)"), "rate 3", None) is None
    assert cf.extract(figure(regex=None, json="a.b"), "", {"a": {"c": 1}}) is None
    assert cf.extract(figure(regex=None, json="a.1.b"), "", {"a": [{}, {"b": "1,024"}]}) == 1024.0
    assert cf.extract(figure(regex=r"share (\S+)"), "share 58%", None) == 58.0


def write_case(tmp_path: Path, figures: list[dict], runs: dict, doc: str = "rate 100 and 7.0x") -> Path:
    (tmp_path / "DOC.md").write_text(doc)
    registry = tmp_path / "figures.yaml"
    registry.write_text(json.dumps({"runs": runs, "figures": figures}))  # JSON is YAML
    return registry


def entry(**overrides):
    values = {
        "id": "rate",
        "run": "r",
        "regex": r"rate (\S+)",
        "value": 100,
        "tolerance": "10%",
        "machine_dependent": False,
        "commit": "abc1234",
        "where": [{"file": "DOC.md", "text": "rate 100"}],
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def run_cli(registry: Path, tmp_path: Path, *extra: str) -> int:
    return cf.main(["--registry", str(registry), "--repo", str(tmp_path), *extra])


def printing(text: str) -> str:
    return f"{PY} -c \"print('{text}')\""


def test_fresh_figures_exit_0(tmp_path, capsys):
    registry = write_case(tmp_path, [entry()], {"r": {"command": printing("rate 105")}})
    assert run_cli(registry, tmp_path) == 0
    out = capsys.readouterr().out
    assert "| rate | 100 | 105 | 10% | ok | abc1234 | DOC.md |" in out
    assert "1 figures: 1 ok, 0 stale" in out
    assert (tmp_path / "runs" / "figures" / "r.log").read_text().strip() == "rate 105"


def test_stale_figure_exits_1_and_reuse_compares_the_saved_output(tmp_path, capsys):
    registry = write_case(tmp_path, [entry()], {"r": {"command": printing("rate 150")}})
    assert run_cli(registry, tmp_path) == 1
    assert "STALE: off by +50" in capsys.readouterr().out
    (tmp_path / "runs" / "figures" / "r.log").write_text("rate 99\n")
    assert run_cli(registry, tmp_path, "--reuse") == 0
    assert "saved output of " in capsys.readouterr().out
    # a saved output of another command is not compared
    registry = write_case(tmp_path, [entry()], {"r": {"command": printing("rate 99") + " --other"}})
    assert run_cli(registry, tmp_path, "--reuse") == 1
    assert "the saved output is of another command" in capsys.readouterr().out


def test_failed_command_or_absent_figure_is_missing_and_exits_1(tmp_path, capsys):
    runs = {"r": {"command": f'{PY} -c "import sys; sys.exit(3)"'}}
    registry = write_case(tmp_path, [entry()], runs)
    assert run_cli(registry, tmp_path) == 1
    out = capsys.readouterr().out
    assert "| rate | 100 | – |" in out and "MISSING" in out and "exit 3" in out


def test_json_output_file_left_by_an_earlier_run_is_not_read(tmp_path, capsys):
    out_file = tmp_path / "result.json"
    out_file.write_text(json.dumps({"rate": 100}))
    runs = {"r": {"command": f'{PY} -c "pass"', "output": "result.json"}}
    registry = write_case(tmp_path, [entry(regex=None, json="rate")], runs)
    assert run_cli(registry, tmp_path) == 1
    assert "MISSING" in capsys.readouterr().out
    runs = {
        "r": {"command": printing("x") + " && echo '{\"rate\": 101}' > result.json", "output": "result.json"}
    }
    registry = write_case(tmp_path, [entry(regex=None, json="rate")], runs)
    assert run_cli(registry, tmp_path) == 0


def test_machine_dependent_difference_exits_0_strict_exits_1(tmp_path):
    registry = write_case(
        tmp_path, [entry(id="speed", machine_dependent=True)], {"r": {"command": printing("rate 300")}}
    )
    assert run_cli(registry, tmp_path) == 0
    assert run_cli(registry, tmp_path, "--strict", "--reuse") == 1


def test_prose_that_no_longer_quotes_the_registry_fails(tmp_path, capsys):
    registry = write_case(tmp_path, [entry()], {"r": {"command": printing("rate 100")}}, doc="rate 120")
    assert run_cli(registry, tmp_path, "--docs-only") == 1
    assert "no longer contains 'rate 100'" in capsys.readouterr().err
    wrong_value = [entry(where=[{"file": "DOC.md", "text": "and 7.0x"}])]
    registry = write_case(tmp_path, wrong_value, {"r": {"command": printing("rate 100")}})
    assert run_cli(registry, tmp_path, "--docs-only") == 1
    assert "does not quote the value 100" in capsys.readouterr().err
    # snippets match across the line breaks of wrapped prose
    registry = write_case(tmp_path, [entry()], {"r": {"command": "true"}}, doc="a\nrate\n   100 b")
    assert run_cli(registry, tmp_path, "--docs-only") == 0


@pytest.mark.parametrize(
    "figures, runs, message",
    [
        ([entry(run="nope")], {"r": {"command": "true"}}, "run 'nope' is not among the runs"),
        (
            [{k: v for k, v in entry().items() if k != "commit"}],
            {"r": {"command": "true"}},
            "missing field 'commit'",
        ),
        ([entry(tolerance="lots")], {"r": {"command": "true"}}, "tolerance must be a number"),
        ([entry(json="a")], {"r": {"command": "true"}}, "exactly one of 'json'"),
        ([entry(regex="no group")], {"r": {"command": "true"}}, "exactly one capture group"),
        ([entry(), entry()], {"r": {"command": "true"}}, "id used twice"),
        ([entry(value="100")], {"r": {"command": "true"}}, "'value' must be a number"),
        ([entry()], {"r": {"command": "true", "colour": 1}}, "unknown field(s) ['colour']"),
        ([entry()], {"r": {"command": "true", "default": "yes"}}, "'default' has the wrong type"),
    ],
)
def test_invalid_registry_exits_2_naming_the_entry_and_field(tmp_path, capsys, figures, runs, message):
    registry = write_case(tmp_path, figures, runs)
    assert run_cli(registry, tmp_path) == 2
    err = capsys.readouterr().err
    assert message in err and str(registry) in err
    assert not (tmp_path / "runs").exists()  # nothing ran


def test_unknown_run_in_only_and_broken_yaml_exit_2(tmp_path, capsys):
    registry = write_case(tmp_path, [entry()], {"r": {"command": "true"}})
    assert run_cli(registry, tmp_path, "--only", "r,zz") == 2
    assert "unknown run(s) ['zz']" in capsys.readouterr().err
    registry.write_text("runs: [")
    assert run_cli(registry, tmp_path) == 2
    assert "invalid YAML" in capsys.readouterr().err


def test_the_project_registry_is_valid_and_the_prose_quotes_it(capsys):
    """Every registered figure is still quoted, with its value, where the registry says (no run needed)."""
    assert cf.main(["--docs-only"]) == 0, capsys.readouterr().err
    registry = cf.load_registry(cf.REGISTRY)
    for run in registry.runs.values():
        assert any(f.run == run.id for f in registry.figures), f"run {run.id} has no figure"
    assert all(f.commit and f.commit != "unknown" for f in registry.figures)

import json

import pytest

from leakwatch.cli import main
from leakwatch.classifier import cli
from leakwatch.classifier.labelled import BANK_PATH

from tests.unit.classifier.builders import conversation
from tests.unit.classifier.test_embedded import NO_PROPOSAL, OUT_OF_REGION


@pytest.fixture(autouse=True)
def _no_llm_settings(monkeypatch):
    for name in ("LEAKWATCH_CLASSIFIER_ENGINE", "LEAKWATCH_OPENAI_BASE_URL", "LEAKWATCH_OPENAI_MODEL",
                 "LEAKWATCH_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _shared_engine(monkeypatch, embedded):
    """One trained embedded engine for the whole session instead of one per CLI call."""
    real = cli.engine_from_settings
    monkeypatch.setattr(cli, "engine_from_settings",
                        lambda settings: embedded if settings.classifier_engine == "embedded" else real(settings))


def _write(tmp_path, items, extra_lines=()):
    path = tmp_path / "in.jsonl"
    lines = [item.model_dump_json() for item in items] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_classify_writes_one_result_per_line_in_input_order(tmp_path, capsys):
    items = [OUT_OF_REGION, NO_PROPOSAL, conversation(("03 10:00", "client", "Дорого."), id="third")]
    assert main(["classify", str(_write(tmp_path, items)), "--engine", "embedded"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in out] == ["region", "no-proposal", "third"]
    assert all(r["engine"]["name"] == "embedded" for r in out)


def test_bad_line_is_named(tmp_path, capsys):
    path = _write(tmp_path, [OUT_OF_REGION], ['{"id": "x", "deal_id": "d", "channel": "fax", "messages": []}'])
    assert main(["classify", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2:" in err and "channel" in err
    path.write_text("{not json\n", encoding="utf-8")
    assert main(["classify", str(path)]) == 2
    assert ":1: not JSON" in capsys.readouterr().err


def test_eval_needs_gold_and_prints_the_tables(tmp_path, capsys):
    no_gold = _write(tmp_path, [OUT_OF_REGION])
    assert main(["eval", str(no_gold)]) == 2
    assert "gold" in capsys.readouterr().err
    bank_sample = tmp_path / "sample.jsonl"
    bank_sample.write_text("".join(BANK_PATH.read_text(encoding="utf-8").splitlines(True)[:12]), encoding="utf-8")
    assert main(["eval", str(bank_sample)]) == 0
    out = capsys.readouterr().out
    assert "reason accuracy" in out and "kind macro-F1" in out and "Поздно связались" in out


def test_openai_without_settings_names_the_missing_ones(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["classify", str(_write(tmp_path, [OUT_OF_REGION])), "--engine", "openai"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "LEAKWATCH_OPENAI_BASE_URL" in err and "LEAKWATCH_OPENAI_MODEL" in err

"""`leakwatch classify --engine openai` configured only through the environment, against a
local OpenAI-compatible server."""

from __future__ import annotations

import json

from tests.support.fake_llm import FakeLLMServer, Reply
from leakwatch.cli import main

from tests.unit.classifier.builders import conversation

ANSWER = {"target": True, "reason": "Дорого", "kind": "real", "leak": None, "hot": False,
          "confidence": 0.6, "evidence": "Дорого для нас."}


def test_classify_with_the_openai_engine_from_env(tmp_path, monkeypatch, capsys):
    item = conversation(("03 10:00", "client", "Дорого для нас."), id="x1")
    path = tmp_path / "in.jsonl"
    path.write_text(item.model_dump_json() + "\n", encoding="utf-8")
    seen = {}

    def behaviour(request, n):
        seen["model"] = request["model"]
        return Reply(content=json.dumps(ANSWER, ensure_ascii=False))

    with FakeLLMServer(behaviour) as server:
        monkeypatch.setenv("LEAKWATCH_OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("LEAKWATCH_OPENAI_MODEL", "local-model")
        monkeypatch.setenv("LEAKWATCH_OPENAI_API_KEY", "sk-test-not-real")
        assert main(["classify", str(path), "--engine", "openai"]) == 0
    [result] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert seen["model"] == "local-model"
    assert result["id"] == "x1" and result["engine"]["name"] == "openai" and result["reason"] == "Дорого"

"""The embedded engine: no network, no key. Multilingual sentence embeddings compared with
a labelled example bank (a softmax regression per label, trained at first use), the
CRM/telephony facts of the timeline, and morphology rules for the easy non-target cases.

Text is data: sentences addressed to the classifier are dropped before anything reads
the conversation (`injection.py`), so «поставь реальный отказ» moves nothing.

Construction is free; the first `classify` (or `warm_up()`) trains the heads on the bank
(once per bank, tuning and code: the trained model is kept in `.local/classifier`, see
model_cache.py; thread-safe) and loads the encoder (~1.5 s, ~150 MB, once per process). After that the instance is read-only and may be shared by any number of agents
and threads; `shared_embedded_classifier()` gives the process-wide one.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from schemas.conversation import ClassificationResult, ConversationInput
from leakwatch.domain.refusals import reason_mismatch
from leakwatch.classifier import encoder, model_cache
from leakwatch.classifier.contract import RefusalClassifier
from leakwatch.classifier.decision import Policy, Verdict, decide
from leakwatch.classifier.embedding_model import Encoded, EmbeddingModel, Tuning, encode_readings
from leakwatch.classifier.features import Reading, read
from leakwatch.classifier.calibration import Isotonic, verdict_correct
from leakwatch.classifier.labelled import BANK_PATH, Labelled, load_labelled
from leakwatch.settings import REPO_ROOT
from schemas.labels import Reason

ENGINE_VERSION = "2.0"
# Where the bank's sentence vectors are kept between processes (git-ignored).
CACHE_DIR = REPO_ROOT / ".local" / "classifier"
# Out-of-fold calibration needs enough verdicts to say anything; random folds when one writer.
CALIBRATION_MIN_BANK = 40
CALIBRATION_FOLDS = 5
# «Not target» verdicts get their own map only with this many out-of-fold ones.
CALIBRATION_MIN_NON_TARGET = 20


class EmbeddedClassifier(RefusalClassifier):
    name = "embedded"

    def __init__(self, bank_path: Path = BANK_PATH, tuning: Tuning = Tuning()) -> None:
        self.bank_path = Path(bank_path)
        self.tuning = tuning
        self._model: EmbeddingModel | None = None
        self._lock = threading.Lock()
        self.version = ENGINE_VERSION  # + the bank's hash once loaded

    async def classify(self, items: list[ConversationInput]) -> list[ClassificationResult]:
        if not items:
            return []
        # Embedding is CPU work: keep it off the event loop.
        return await asyncio.to_thread(self.classify_sync, items)

    def warm_up(self) -> None:
        self._trained()

    def classify_sync(self, items: list[ConversationInput]) -> list[ClassificationResult]:
        model = self._trained()
        readings = [read(item) for item in items]
        return [
            ClassificationResult(
                **verdict.labels.model_dump(),
                id=r.item.id,
                deal_id=r.item.deal_id,
                confidence=verdict.confidence,
                evidence=verdict.evidence,
                engine=self.info,
                reason_mismatch=reason_mismatch(r.item.manager_reason, verdict.labels.reason),
            )
            for r, verdict in zip(readings, judge(model, readings, encode_readings(readings)))
        ]

    def _trained(self) -> EmbeddingModel:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    bank_bytes = self.bank_path.read_bytes()
                    digest = hashlib.sha256(bank_bytes).hexdigest()[:8]
                    # Same bank, tuning and code as a process before: its trained model.
                    cached = CACHE_DIR / f"model-{model_cache.model_key(bank_bytes, self.tuning, ENGINE_VERSION)}.npz"
                    model = model_cache.load(cached, self.tuning)
                    if model is None:
                        model = self._train(digest)
                        model_cache.save(model, cached)
                    encoder.warm_up()  # the encoder's weights, before the first batch
                    self._model = model
                    self.version = f"{ENGINE_VERSION}+bank.{digest}"
        return self._model

    def _train(self, digest: str) -> EmbeddingModel:
        bank = load_labelled(self.bank_path)
        if not bank:
            raise ValueError(f"example bank {self.bank_path} is empty")
        readings = [read(e.item) for e in bank]
        texts = [t for r in readings for t in (*r.client_lines, *r.manager_lines)]
        encoder.encode_cached(texts, CACHE_DIR / f"bank-{digest}-{encoder.DIM}-{encoder.TOKENIZER}.npz")
        return train_calibrated(bank, readings, encode_readings(readings), self.tuning, cache_dir=CACHE_DIR)


def judge(model: EmbeddingModel, readings: list[Reading], encoded: Encoded, policy: Policy = Policy()) -> list[Verdict]:
    """One verdict per reading: the heads' probabilities, the facts, the evidence line; the
    confidence mapped to observed accuracy when the model carries a calibrator."""
    verdicts = []
    for r, probs, lines in zip(readings, model.probabilities(encoded), encoded.client_lines):
        reason = max(probs["reason"], key=probs["reason"].get)
        best = model.best_line(lines, Reason(reason))
        v = decide(r, probs, r.client_lines[best] if best is not None else None, policy)
        calibrator = model.calibrator if v.labels.target else (model.non_target_calibrator or model.calibrator)
        calibrated = round(calibrator(v.confidence), 3) if calibrator else v.confidence
        verdicts.append(replace(v, confidence=calibrated, raw_confidence=v.confidence))
    return verdicts


def writer_of(example: Labelled) -> str:
    """Bank ids name their writer («wa-017», «bank-042»): the unit of out-of-fold calibration."""
    return example.item.id.split("-", 1)[0]


def train_calibrated(bank: list[Labelled], readings: list[Reading], encoded: Encoded,
                     tuning: Tuning = Tuning(), policy: Policy = Policy(),
                     cache_dir: Path | None = None) -> EmbeddingModel:
    """The heads on the whole bank, plus a confidence calibrator fitted on out-of-fold
    verdicts: each writer's deals judged by heads trained on the other writers (so the
    map reflects unseen writing). Fewer than two writers: random folds; a tiny bank: none."""
    model = EmbeddingModel.train(bank, readings, encoded, tuning)
    # The folds cost ~half the training again: keep the fitted map next to the bank's
    # vectors, keyed by the trained weights (same code, bank and tuning -> same weights).
    key = hashlib.sha256(b"".join(h.weights.tobytes() + h.bias.tobytes() for h in model.heads.values())).hexdigest()[:16]
    path = cache_dir / f"calibration-{key}.npz" if cache_dir is not None else None
    try:
        if path is not None:
            with np.load(path) as data:
                model.calibrator = Isotonic(data["x"], data["y"])
                if "non_target_x" in data:
                    model.non_target_calibrator = Isotonic(data["non_target_x"], data["non_target_y"])
                return model
    except (OSError, KeyError, ValueError):
        model.calibrator = model.non_target_calibrator = None
    writers = [writer_of(x) for x in bank]
    groups = sorted(set(writers))
    if len(groups) < 2:
        if len(bank) < CALIBRATION_MIN_BANK:
            return model
        writers = [str(i % CALIBRATION_FOLDS) for i in range(len(bank))]
        groups = sorted(set(writers))
    scores, outcomes, targets = [], [], []
    for g in groups:
        test = [i for i, w in enumerate(writers) if w == g]
        train = [i for i, w in enumerate(writers) if w != g]
        if not any(bank[i].gold.target for i in train):
            continue
        fold = EmbeddingModel.train([bank[i] for i in train], [readings[i] for i in train], encoded.take(train), tuning)
        for i, v in zip(test, judge(fold, [readings[i] for i in test], encoded.take(test), policy)):
            scores.append(v.confidence)
            outcomes.append(verdict_correct(bank[i].gold, v.labels))
            targets.append(v.labels.target)
    if len(scores) >= CALIBRATION_MIN_BANK:
        # «Not target» verdicts are a different population on the same axis: a cue's fixed
        # RULE_CONFIDENCE (0.9) or 1 - p(target), right ~97% of the time, while refusal
        # verdicts scoring 0.9 are right far less often. One map pooled both, so it
        # under-stated the first and over-stated the second; each gets its own map.
        refusal = [i for i, t in enumerate(targets) if t]
        other = [i for i, t in enumerate(targets) if not t]
        pick = lambda xs, rows: [xs[i] for i in rows]  # noqa: E731
        if len(refusal) >= CALIBRATION_MIN_BANK and len(other) >= CALIBRATION_MIN_NON_TARGET:
            model.calibrator = Isotonic.fit(pick(scores, refusal), pick(outcomes, refusal))
            model.non_target_calibrator = Isotonic.fit(pick(scores, other), pick(outcomes, other))
        else:
            model.calibrator = Isotonic.fit(scores, outcomes)
        if path is not None:
            arrays = {"x": model.calibrator.x, "y": model.calibrator.y}
            if model.non_target_calibrator is not None:
                arrays |= {"non_target_x": model.non_target_calibrator.x, "non_target_y": model.non_target_calibrator.y}
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.savez(path, **arrays)
            except OSError:
                pass  # a read-only checkout: refit at every start
    return model


_shared: EmbeddedClassifier | None = None
_shared_lock = threading.Lock()


def shared_embedded_classifier() -> EmbeddedClassifier:
    """One trained engine per process for callers that need a default (the LLM fallback)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = EmbeddedClassifier()
        return _shared

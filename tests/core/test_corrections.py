"""Learning from the team: corrections feed triage-eval and triage-train through the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import yaml

from monitor.cli import main
from monitor.config import load_config
from monitor.mention import Mention
from monitor.pipeline import Pipeline
from monitor.store.db import make_engine, migrate
from monitor.triage.learned import load_model

T0 = datetime(2026, 11, 1, tzinfo=UTC)
# Written for this test: a "complaint" dialect the rules only partly know (team jargon).
COMPLAINTS = [f"zorp unit {n} went grey again, ticket {n} ignored" for n in range(12)]
OTHERS = [f"zorp unit {n} arrived, lovely colour" for n in range(12)]


def test_eval_and_train_from_corrections(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({"brand": {"names": ["Zorp"]}, "storage": {"url": db}}))
    config = load_config(cfg)
    engine = make_engine(db)
    migrate(engine)
    texts = COMPLAINTS + OTHERS
    result = Pipeline(engine, config, alerts_enabled=False).ingest(
        [Mention("x", str(i), t, T0 + timedelta(minutes=i), f"u{i}") for i, t in enumerate(texts)], source="x"
    )
    assert main(["triage-eval", "-c", str(cfg)]) == 1
    assert "no label corrections yet" in capsys.readouterr().err
    for mention_id, text in zip(result.stored_ids, texts, strict=True):
        label = "complaint" if text in COMPLAINTS else "praise"
        assert main(["label", str(mention_id), label, "-c", str(cfg), "--as", "agent"]) == 0
    capsys.readouterr()
    assert main(["triage-eval", "-c", str(cfg)]) == 0
    report = capsys.readouterr().out
    assert "against 24 label correction(s)" in report and "complaint" in report

    model_path = tmp_path / "model.json.gz"
    assert main(["triage-train", "-c", str(cfg), "--out", str(model_path)]) == 0
    assert "trained on 24 correction(s) (12 complaints)" in capsys.readouterr().out
    model = load_model(model_path)
    assert model is not None
    assert model.complaint_score("zorp unit 99 went grey again") > model.complaint_score(
        "zorp arrived, lovely"
    )


def test_train_refuses_one_class(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({"brand": {"names": ["Zorp"]}, "storage": {"url": db}}))
    engine = make_engine(db)
    migrate(engine)
    r = Pipeline(engine, load_config(cfg), alerts_enabled=False).ingest(
        [Mention("x", "1", "zorp ok", T0, "a")], source="x"
    )
    main(["label", str(r.stored_ids[0]), "praise", "-c", str(cfg)])
    assert main(["triage-train", "-c", str(cfg), "--out", str(tmp_path / "m.gz")]) == 1
    assert "need both complaints and non-complaints" in capsys.readouterr().err
    assert main(["triage-train", "-c", str(cfg)]) == 2

"""The responder's commands end to end: claim, a refused reply, reply --send, replies, auto-ack --dry-run."""

from __future__ import annotations

import yaml

from monitor.cli import main
from tests.responder.conftest import config_data, ingest, make_config


def test_claim_reply_and_list_from_the_command_line(tmp_path, sqlite_url, mastodon, capsys):
    mastodon.add_mention("my invoice is wrong", author="ivan")
    data = config_data(
        mastodon,
        responder={"templates": {"sorry": "Sorry {author}, {agent} here: we're fixing it within {window}."}},
    )
    data["storage"] = {"url": sqlite_url}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    config = make_config(mastodon)
    from monitor.store.db import make_engine, migrate

    engine = make_engine(sqlite_url)
    migrate(engine)
    [mid] = ingest(engine, config, "mastodon")
    c = ["-c", str(path)]

    assert main(["claim", str(mid), "--as", "alice", *c]) == 0
    capsys.readouterr()
    assert main(["mentions", *c]) == 0
    assert "acknowledged (alice)" in capsys.readouterr().out  # the claim shows in the listing
    assert main(["reply", str(mid), "--text", "hi", "--as", "bob", *c]) == 1
    assert "already claimed by alice" in capsys.readouterr().err
    assert main(["reply", str(mid), "--text", "   ", "--as", "alice", *c]) == 2
    assert "only whitespace" in capsys.readouterr().err

    assert main(["reply", str(mid), "--template", "sorry", "--as", "alice", "--send", *c]) == 0
    shown = capsys.readouterr().out
    assert "@ivan Sorry ivan, Alice here: we're fixing it within 24 hours." in shown
    assert "sent: " + mastodon.replies[0]["url"] in shown
    assert len(mastodon.replies) == 1

    assert main(["replies", "--status", "sent", *c]) == 0
    listed = capsys.readouterr().out
    assert f"mention #{mid} mastodon sent by alice" in listed
    assert main(["auto-ack", "--dry-run", *c]) == 0
    assert "0 automatic reply(ies) would send" in capsys.readouterr().out

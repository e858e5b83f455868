"""The round over a source's streams: fair turns, resumable, forgets streams no longer configured."""

from monitor.sources._polling import advance_round, round_todo


def test_a_stream_with_a_backlog_goes_to_the_back_of_the_round():
    streams = ["link", "comment", "inbox"]
    todo = round_todo(None, streams)
    states, todo = advance_round({}, todo, streams, "link", {"next": "t3_x"}, more=True)
    assert todo == ["comment", "inbox", "link"]  # the inbox is not kept waiting behind search pages
    states, todo = advance_round(states, todo, streams, "comment", {"next": None}, more=False)
    assert todo == ["inbox", "link"] and states == {"link": {"next": "t3_x"}, "comment": {"next": None}}


def test_saved_round_resumes_and_drops_unconfigured_streams():
    assert round_todo(["inbox", "old"], ["link", "inbox"]) == ["inbox"]
    assert round_todo([], ["link", "inbox"]) == ["link", "inbox"]  # a finished round starts anew
    states, todo = advance_round({"old": 1, "link": 2}, ["inbox"], ["link", "inbox"], "inbox", 3, more=False)
    assert states == {"link": 2, "inbox": 3} and todo == []

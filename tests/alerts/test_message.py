"""Untrusted mention text stays inert in every format, and messages fit each service's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerts.compose import mention_message
from monitor.alerts.message import Message, Span, neutralize, plain, render, trim, untrusted
from monitor.alerts.settings import SLASettings
from monitor.store import models as m

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)

HOSTILE = [
    "@everyone outage!",
    "@here",
    "hey @channel look",
    "<!channel> <!here> <!everyone>",
    "<@U024BE7LH> <@!80351110224678912> <@&165511591545143296> <#C024BE7LR>",
    "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "[Acknowledge](https://evil.example/ack/1)",
    "<https://evil.example/ack/2|Acknowledge>",
    "visit acme-support.help/ack/3 now",
    "javascript:alert(3)",
    "**bold** __under__ ~~strike~~ `code` # heading",
    "\u202eevil\u202c reversed \u200b hidden",
    "bell\x07 and null\x00 and esc\x1b[31m",
    "line one\n\n\n\n\n\nline two",
    "@room and @all on Matrix",
    "&lt;!channel&gt; &#60;@&amp;123&#62; &#x3C;script&#x3E;",
]

FORBIDDEN = [
    "@everyone",
    "@here",
    "@channel",
    "@room",
    "@all",
    "<!",
    "<@",
    "<#",
    "<script",
    "<img",
    "https://evil",
    "evil.example",
    "acme-support.help",
    "javascript:",
    "\u202e",
    "\x07",
    "\x00",
    "\x1b",
    "](",
    "\n\n\n",
]


def _mention(text: str, **kw) -> m.Mention:
    base = dict(
        id=7,
        platform="x",
        external_id="1",
        source="x",
        url="https://x.com/bob/status/1",
        author_handle="bob",
        author_name="Bob",
        author_followers=48_200,
        text=text,
        created_at=NOW - timedelta(minutes=4),
        fetched_at=NOW,
        label="complaint",
        urgency=92,
        priority="P1",
        reasons=["negative -0.91", "48k followers", "'charged twice'"],
    )
    base.update(kw)
    return m.Mention(**base)


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_inert_in_every_format(fmt, text):
    msg = mention_message(
        _mention(text, author_handle="@everyone", author_name="<!here>"),
        now=NOW,
        sla=SLASettings(),
        ack_link="https://monitor.acme.test/ack/7.123.abc",
    )
    title, body = render(msg, fmt)
    out = title + "\n" + body
    for bad in FORBIDDEN:
        if bad == "](" and fmt == "markdown":
            # Our own acknowledge/post links are the only markdown links allowed.
            assert out.count("](") == 2, out
            continue
        assert bad not in out, f"{bad!r} survived in {fmt}: {out!r}"
    if fmt == "html":
        assert body.count("<a ") == 2  # the post and the acknowledge link, nothing from the text


def test_neutralize_keeps_text_readable():
    assert neutralize("Order <123> failed @acme https://acme.com") == (
        "Order ‹123› failed @\u200bacme hxxps://acme[.]com"
    )
    assert neutralize("ok\tfine  \n\n\n\nnext") == "ok fine  \n\nnext"


def test_our_links_survive_and_bad_urls_are_not_links():
    msg = Message(
        title=(plain("t"),),
        lines=(
            (Span("Acknowledge", "link", url="https://monitor.acme.test/ack/1.2.x"),),
            (Span("Bad", "link", url="javascript:alert(1)"),),
            (Span("Bad2", "link", url="https://x.test/a) [y](https://evil"),),
        ),
    )
    _, md = render(msg, "markdown")
    assert "[Acknowledge](<https://monitor.acme.test/ack/1.2.x>)" in md
    assert "javascript" not in md and "evil" not in md
    _, html = render(msg, "html")
    assert '<a href="https://monitor.acme.test/ack/1.2.x">Acknowledge</a>' in html
    assert html.count("<a ") == 1


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
@pytest.mark.parametrize("limit", [2000, 4096, 500])
def test_long_text_is_trimmed_to_the_service_limit_keeping_links(fmt, limit):
    long = ("Everything is broken & <nothing> works *again* " * 400).strip()
    msg = mention_message(_mention(long), now=NOW, sla=SLASettings(), ack_link="https://m.test/ack/1.2.x")
    _title, body = render(msg, fmt, body_maxlen=limit, quote_limit=10_000)
    assert len(body) <= limit
    assert "…" in body
    assert "m.test/ack/1.2.x" in body  # the action link is never the part that gets cut
    assert "Why:" in body or "Why" in body


def test_trim_cuts_at_a_word_and_marks_it():
    assert trim("short", 10) == "short"
    assert trim("the quick brown fox jumps", 12) == "the quick…"
    assert len(trim("x" * 100, 10)) == 10


def test_message_content_an_agent_can_act_on():
    msg = mention_message(_mention("You charged me twice!"), now=NOW, sla=SLASettings(), ack_link=None)
    title, body = render(msg, "text")
    assert title.startswith("P1 complaint on x")
    assert "bob" in title
    assert "48k followers" in body
    assert "You charged me twice!" in body
    assert "Why: negative -0.91, 48k followers, 'charged twice'" in body
    # Posted 4 min ago; the P1 SLA (15 min) is due at 10:11 UTC, 11 minutes from now.
    assert "Posted 4 min ago · reply due 10:11 UTC (in 11 min)" in body
    assert "Open post: https://x.com/bob/status/1" in body
    assert "mention #7" in body


def test_title_is_one_line_and_untrusted_parts_neutralised():
    msg = Message(title=(plain("P1 ·"), untrusted("@here\nsecond <b>line</b> & more")))
    for fmt in ("text", "markdown", "html"):
        title, _ = render(msg, fmt)
        assert "\n" not in title and "@here" not in title and "<b>" not in title
    assert render(msg, "html")[0].count("&") == 0


@pytest.mark.parametrize("text", HOSTILE)
def test_apprise_discord_and_slack_find_nothing_to_ping(text):
    """Apprise's own Discord plugin turns "@word", "<@id>" and "<@&role>" in an embed body into pings."""
    import apprise

    discord = apprise.Apprise.instantiate("discord://123456/abcdefghijk")
    msg = mention_message(_mention(text, author_handle="@here"), now=NOW, sla=SLASettings())
    title, body = render(msg, "markdown", body_maxlen=discord.body_maxlen)
    assert discord.ping_payload(title, body) == {}
    slack = apprise.Apprise.instantiate("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ")
    for pattern in (slack._re_channel_support, slack._re_user_id_support):
        assert not pattern.search(body), (pattern.pattern, body)
    # The only links Slack would make are ours.
    assert {m.group("url") for m in slack._re_url_support.finditer(body)} == {"https://x.com/bob/status/1"}


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
@pytest.mark.parametrize(("body_max", "title_max"), [(160, 0), (300, 0), (2000, 256), (1000, 250), (120, 40)])
def test_fit_respects_small_services(fmt, body_max, title_max):
    from monitor.alerts.delivery import fit

    msg = mention_message(_mention("charged twice " * 200), now=NOW, sla=SLASettings(), ack_link=None)
    title, body = fit(msg, fmt, body_max=body_max, title_max=title_max, quote_limit=600)
    assert len(body) + (len(title) if title_max else 0) <= body_max
    assert len(title) <= max(title_max, 0) or title == ""
    if not title_max:
        assert title == "" and "P1 complaint" in body.splitlines()[0]

"""The responder: agents' public replies to mentions, sent once from the reply outbox.

``workflow.request_reply`` checks and queues a reply (``templates`` renders it,
the platform's :class:`~monitor.responder.base.Replier` checks its length and
format); :mod:`monitor.responder.sender` posts it with the platform's reply
call (``x``, ``mastodon``, ``bluesky``, ``reddit``; ``hackernews`` is read-only)
and records the platform's id. :mod:`monitor.responder.autoack` queues the
automatic acknowledgements. See docs/responder.md.
"""

"""Steering for the end-to-end benchmark (bench/run.py), the fault run (bench/chaos.py) and their quick tests.

One importable place for the pieces they share: fake platforms that publish marked
mentions and inject faults on demand (:mod:`.platforms`), a chat web-hook receiver that
can fail, hang and recover (:mod:`.receiver`), the real ``mention-monitor run`` process
(:mod:`.daemon`), a private PostgreSQL that can be restarted (:mod:`.postgres`) and the
exactly-once accounting over the store and the receiver (:mod:`.ledger`).
"""

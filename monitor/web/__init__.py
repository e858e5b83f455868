"""The web dashboard (inbox, mention pages, incidents, reports) and the signed links in alerts, on FastAPI."""

"""The daemon's small web endpoint: signed acknowledge links today, the dashboard later."""

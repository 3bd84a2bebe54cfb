"""The web board: both cards on the cards' SQL, the managers, the drill-down of cases and the
review queue, as an ASGI app (`leakwatch.web.app.create_app`) for the process that owns the store."""

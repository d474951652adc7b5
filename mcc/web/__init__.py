"""The MCC web app (server-rendered pages, htmx, SSE); build it with ``mcc.web.app.create_web_app``."""

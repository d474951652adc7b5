"""Route modules of the web app; each defines ``router`` (see ``mcc.web.app``)."""

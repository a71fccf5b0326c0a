"""piccolo's configuration module (PICCOLO_CONF=core.piccolo_conf).

At run time core.db.connect() puts the live engine in DB. For piccolo's own CLI during development
(`piccolo migrations new core --auto`), DB is built from $RELAYDESK_DATABASE or a local SQLite file.
"""

import os

from piccolo.conf.apps import AppRegistry

from core.db import engine_from_url

DB = engine_from_url(os.environ.get("RELAYDESK_DATABASE", "sqlite:///relaydesk.db"))

APP_REGISTRY = AppRegistry(apps=["core.piccolo_app"])

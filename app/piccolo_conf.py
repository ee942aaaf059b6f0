"""Piccolo configuration: the engine (from DATABASE_URL) and the app registry."""

from piccolo.conf.apps import AppRegistry

from app.core.db import make_engine

DB = make_engine()

APP_REGISTRY = AppRegistry(apps=["app.piccolo_app"])

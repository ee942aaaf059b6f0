"""Shouhou (售后): the after-sales service desk."""

import os

# Piccolo finds its engine through this module; set before any Table class is imported.
os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")

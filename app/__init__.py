"""Shouhou (售后): the after-sales service desk."""

import os

# Piccolo finds its engine through this module; set before any Table class is imported.
os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")


def _install_manifests() -> None:
    from app.core.manifest import install_all
    from app.domains import manifests

    install_all(manifests())


def _register_loader() -> None:
    from app.core.manifest import set_loader

    set_loader(_install_manifests)


_register_loader()

"""Parts pages: the keeper's search, part and unit pages with movement forms, locations,
reorder list, reconciliation, purchase requests, the emergency store and stocktakes.

Thin handlers: parse the form → one service call → render or redirect.
"""


from __future__ import annotations

from app.parts.controllers._parts import PartsController
from app.parts.controllers._workflows import EmergencyController, PurchaseController, StocktakeController

CONTROLLERS = [PartsController, PurchaseController, EmergencyController, StocktakeController]

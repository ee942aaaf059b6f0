"""Pages for customers, contracts, devices, renewals, the price list, documents and imports.

Permissions (declared in manifest.py; README.customers.md): every signed-in role reads
(`customers.view`); desk and manager edit customers, contracts and devices (`customers.edit`);
admin edits the price list (`customers.price_edit`). Services raise the shared DomainError;
handlers catch it only to re-render their own form with the field messages.

The handlers live in customers.py, devices.py and other.py (split at 600 lines, issue #10).
"""

from app.customers.controllers.customers import ContractController, CustomerController
from app.customers.controllers.devices import DeviceController
from app.customers.controllers.other import DocumentController, PriceListController, RenewalController

CONTROLLERS = [CustomerController, ContractController, DeviceController, RenewalController, PriceListController,
               DocumentController]

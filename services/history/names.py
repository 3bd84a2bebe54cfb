"""Vendor ids -> the names the boards show: the very mapping ingest uses
(LEAKWATCH_INGEST_MAPPING), so imported history and live webhooks name deals alike. The one
place this package touches services/ingest."""

from __future__ import annotations

from services.ingest.errors import MappingError
from services.ingest.values import rub, text, when
from services.ingest.vendor_maps import AMO_LOST, AMO_WON, VendorMaps, load_maps

__all__ = ["AMO_LOST", "AMO_WON", "MappingError", "VendorMaps", "load_maps", "rub", "text", "when"]

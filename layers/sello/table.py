"""The DynamoDB single table's shape, part of the catalog (sello.catalog): its key names and the one GSI."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    partition_key: str = "pk"
    sort_key: str = "sk"
    gsi_name: str = "gsi1"
    gsi_partition_key: str = "gsi1pk"
    gsi_sort_key: str = "gsi1sk"
    ttl_attribute: str = "expires_at"


TABLE = TableSpec()

"""The integrity core: append-only records, signatures, per-elevator hash chains, photos."""

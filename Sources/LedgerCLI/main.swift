print("ledger: not built yet")

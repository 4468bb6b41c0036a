"""The audit log: every change to a record, with who made it and its before and after."""

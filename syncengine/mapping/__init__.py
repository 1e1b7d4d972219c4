"""Pure mapping between the canonical model and each system's API shapes, through editable tables.

`tables.yaml` (loaded by `tables.py`) holds the codes a deployment team maps; `crm.py`,
`erp_deals.py`, `psa_deals.py` and `hcm.py` map the deal side, `psa_work.py` and `erp_billing.py`
the money side. Nothing here does I/O except reading the tables file.
"""

"""The four systems of record (CRM, PSA, HCM, ERP) as spec-first Flask mocks."""

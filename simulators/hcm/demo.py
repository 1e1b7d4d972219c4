"""An optional demo roster (config `DEMO_WORKERS`) so a freshly served HCM has people in it."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from simulators.common.store import Store
from simulators.hcm.cost_rates import default_capacity_hours, loaded_hourly_cost
from simulators.hcm.reference import LEGAL_ENTITIES, hours, money

ROLES = ("ANALYST", "CONSULTANT", "SENIOR_CONSULTANT", "MANAGER", "SENIOR_MANAGER", "PARTNER")
PRACTICES = ("STRATEGY", "TECHNOLOGY", "DATA_AI", "OPERATIONS")
SKILLS = ("Change Management", "Cloud Architecture", "Data Engineering", "Financial Modelling",
          "Machine Learning", "Process Mining", "Programme Management", "Supply Chain")
LOCALES = {"US01": "en_US", "UK01": "en_GB", "DE01": "de_DE"}
BASE_SALARY = {"US01": Decimal("85000"), "UK01": Decimal("60000"), "DE01": Decimal("65000")}
ROLE_SALARY_STEP = Decimal("1.35")


def _email(first: str, last: str, number: int) -> str:
    ascii_name = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
    return f"{ascii_name}.{number}@firmsim.example".lower().replace(" ", "").replace("'", "")


def demo_seeder(count: int, seed: int) -> Callable[[Store], None]:
    """Return a seeder that hires `count` workers with a HIRE cost rate and two skills each."""

    def seed_roster(store: Store) -> None:
        from faker import Faker

        fakers = {code: Faker(locale) for code, locale in LOCALES.items()}
        for offset, faker in enumerate(fakers.values()):
            faker.seed_instance(seed + offset)
        today = store.now().date()
        entities = sorted(LEGAL_ENTITIES)
        for number in range(count):
            code = entities[number % len(entities)]
            entity = LEGAL_ENTITIES[code]
            faker = fakers[code]
            first, last = faker.first_name(), faker.last_name()
            role_index = min(number % 7, len(ROLES) - 1)
            hire = (today - timedelta(days=30 + 97 * number)).isoformat()
            worker = store.insert("workers", {
                "worker_type": "CONTRACTOR" if number % 9 == 8 else "EMPLOYEE",
                "first_name": first, "last_name": last,
                "email": _email(first, last, number + 1),
                "role": ROLES[role_index], "role_effective_from": hire,
                "role_history": [{"role": ROLES[role_index], "effective_from": hire, "reason": "HIRE"}],
                "legal_entity": code, "country": entity.country, "currency": entity.currency,
                "practice": PRACTICES[number % len(PRACTICES)],
                "hire_date": hire, "original_hire_date": hire, "termination_date": None, "termination_reason": None,
                "status": "ACTIVE", "weekly_capacity_hours": hours(entity.standard_week_hours), "manager_id": None,
            })
            salary = BASE_SALARY[code] * ROLE_SALARY_STEP ** role_index
            capacity = default_capacity_hours(worker)
            store.insert("cost_rates", {
                "worker_id": worker["id"], "legal_entity": code, "currency": entity.currency,
                "hourly_cost": money(loaded_hourly_cost(salary, Decimal("1.30"), capacity)),
                "effective_from": hire, "reason": "HIRE", "revision": 1, "status": "ACTIVE",
                "supersedes": None, "superseded_by": None, "retroactive": False,
                "basis": {"annual_salary": money(salary), "burden_multiplier": "1.30",
                          "annual_capacity_hours": capacity},
                "note": None,
            })
            for skill in (SKILLS[number % len(SKILLS)], SKILLS[(number + 3) % len(SKILLS)]):
                level = 1 + (number + len(skill)) % 5
                store.insert("skills", {"worker_id": worker["id"], "name": skill, "level": level})

    return seed_roster


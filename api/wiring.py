"""Build the process engine for Baoxue: the domain's roles, forms folder and timezone."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from engine.calendar import BusinessCalendar
from engine.consistency import Check
from engine.process_engine import EngineConfig, ProcessEngine
from engine.sandbox import SandboxConfig
from ledger.case_dates import case_dates
from ledger.case_handoff import DOMAIN_MESSAGES, start_business_key
from ledger.checks import DOMAIN_CHECKS
from ledger.due import make_due_policy
from ledger.form_choices import form_choices
from ledger.form_messages import form_message
from ledger.home_teaching import norm_environment
from ledger.message_privacy import PRIVATE_MESSAGE_FIELDS
from ledger.migrate import VERSIONS as LEDGER_MIGRATIONS
from ledger.roles import LANE_ROLES
from ledger.routing import ROUTING_PROPERTIES, ROUTING_VARIABLES, route_task

from .settings import Settings


# Pure functions that scripts and expressions in processes/ may call (run in the sandbox).
SCRIPT_FUNCTIONS = {"add_working_days": "engine.calendar:add_working_days",
                    # processes/home_teaching.bpmn: the county norm and the schedule's days
                    "home_teaching_norm": "ledger.home_teaching:home_teaching_norm",
                    "month_plan": "ledger.home_teaching:month_plan",
                    "month_figures": "ledger.home_teaching:month_figures"}


# The domain's checks for `baoxue check`, run after the engine's own (engine.consistency): each a
# Check(name, run) where run(engine) yields Finding(check, message, instance_id=, element_id=,
# subject=) and only reads (engine.db.snapshot()): ledger/checks.py.
CONSISTENCY_CHECKS: list[Check] = list(DOMAIN_CHECKS)


def build_engine(settings: Settings, **overrides) -> ProcessEngine:
    # The worker inherits no environment: the settings its functions read go with it.
    overrides.setdefault("sandbox", SandboxConfig(functions=SCRIPT_FUNCTIONS, environment=norm_environment()))
    overrides.setdefault("checks", CONSISTENCY_CHECKS)
    calendar = BusinessCalendar(ZoneInfo(settings.timezone))
    config = EngineConfig(
        database_url=settings.database_url, timezone=settings.timezone, known_roles=LANE_ROLES,
        form_dirs=[settings.forms_dir], search_path=[settings.processes_dir],
        migration_locations=[LEDGER_MIGRATIONS], router=route_task, due_policy=make_due_policy(calendar),
        form_message=form_message, form_choices=form_choices, form_variables=case_dates,
        protected_variables=ROUTING_VARIABLES, routing_properties=ROUTING_PROPERTIES,
        business_key=start_business_key,
        audit_key=settings.audit_key, private_message_fields=PRIVATE_MESSAGE_FIELDS,
        reserved_messages=DOMAIN_MESSAGES, **overrides)
    return ProcessEngine(config)

"""Piccolo tables of the core. Plugins keep their own tables in their own piccolo apps.

Lists (languages, skills, customer tags) are JSON because they are read whole; ticket tags get their
own table because queues filter on them.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    BigSerial,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.base import OnDelete
from piccolo.table import Table

TICKET_STATUSES = ("new", "open", "pending", "on-hold", "solved", "closed", "spam")
OPEN_STATUSES = ("new", "open", "pending", "on-hold")
PRIORITIES = ("urgent", "high", "normal", "low")
DIRECTIONS = ("inbound", "outbound", "note")
ROLES = ("admin", "agent", "readonly")
AVAILABILITY = ("online", "away", "offline")


class Team(Table, tablename="teams"):
    name = Varchar(length=100, unique=True)
    # "everyone" or "members": who sees the team's tickets (core.visibility; migration core_0013)
    visibility = Varchar(length=16, default="everyone")
    created_at = Timestamptz(default=TimestamptzNow())


class Agent(Table, tablename="agents"):
    name = Varchar(length=200)
    email = Varchar(length=254, unique=True)
    password_hash = Varchar(length=255, null=True, default=None)
    role = Varchar(length=16, default="agent")
    languages = JSON(default=[])
    skills = JSON(default=[])
    capacity = Integer(default=20)
    availability = Varchar(length=16, default="offline")
    timezone = Varchar(length=64, default="UTC")
    locale = Varchar(length=16, default="en")
    active = Boolean(default=True)
    # Bumped by "sign out everywhere": sessions remember the generation they were made in.
    session_generation = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class AgentTeam(Table, tablename="agent_teams"):
    agent = ForeignKey(Agent, on_delete=OnDelete.cascade)
    team = ForeignKey(Team, on_delete=OnDelete.cascade)


class ApiToken(Table, tablename="api_tokens"):
    agent = ForeignKey(Agent, on_delete=OnDelete.cascade)
    name = Varchar(length=100)
    token_hash = Varchar(length=64, unique=True)
    prefix = Varchar(length=16)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class ChannelAccount(Table, tablename="channel_accounts"):
    plugin = Varchar(length=64)
    name = Varchar(length=64)
    channel_type = Varchar(length=64)
    poll_cursor = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Customer(Table, tablename="customers"):
    name = Varchar(length=200, null=True, default=None)
    email = Varchar(length=254, null=True, default=None, index=True)
    phone = Varchar(length=32, null=True, default=None, index=True)
    tags = JSON(default=[])
    notes = Text(default="")
    merged_into = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Identity(Table, tablename="customer_identities"):
    """A customer's handle on one channel type (an email address, a PSID, a phone number)."""

    customer = ForeignKey(Customer, on_delete=OnDelete.cascade)
    channel_type = Varchar(length=64)
    handle = Varchar(length=254)
    display_name = Varchar(length=200, null=True, default=None)
    email = Varchar(length=254, null=True, default=None, index=True)
    phone = Varchar(length=32, null=True, default=None, index=True)
    email_verified = Boolean(default=False)
    phone_verified = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class Ticket(Table, tablename="tickets"):
    subject = Varchar(length=500, default="")
    status = Varchar(length=16, default="new")
    priority = Varchar(length=16, default="normal")
    customer = ForeignKey(Customer, on_delete=OnDelete.cascade)
    account = ForeignKey(ChannelAccount, null=True, on_delete=OnDelete.set_null)
    channel_type = Varchar(length=64)
    thread_key = Varchar(length=255, null=True, default=None)
    assignee = ForeignKey(Agent, null=True, on_delete=OnDelete.set_null)
    team = ForeignKey(Team, null=True, on_delete=OnDelete.set_null)
    language = Varchar(length=16, null=True, default=None)
    intent = Varchar(length=64, null=True, default=None)
    sentiment = Varchar(length=16, null=True, default=None)
    route_reason = Text(null=True, default=None)
    linked_ticket = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    last_message_at = Timestamptz(default=TimestamptzNow())
    last_customer_message_at = Timestamptz(null=True, default=None)
    # SLA: the due times of the targets still running and the earliest of them, which the
    # queue sorts on and the sweeper scans by index.
    first_response_due_at = Timestamptz(null=True, default=None)
    next_response_due_at = Timestamptz(null=True, default=None)
    resolution_due_at = Timestamptz(null=True, default=None)
    sla_due_at = Timestamptz(null=True, default=None)
    sla_warned_at = Timestamptz(null=True, default=None)
    first_response_breached = Boolean(default=False)
    next_response_breached = Boolean(default=False)
    resolution_breached = Boolean(default=False)
    first_responded_at = Timestamptz(null=True, default=None)
    solved_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    # Claim pool (core_0005): when the ticket entered its team's pool (NULL: not pooled), when the
    # "left in the pool too long" alert is due (NULL once fired or claimed), when an agent claimed it.
    pooled_at = Timestamptz(null=True, default=None)
    pool_alert_due_at = Timestamptz(null=True, default=None)
    claimed_at = Timestamptz(null=True, default=None)
    # The matched SLA policy's warning lead (NULL: core.sla.WARNING_LEAD).
    sla_warning_minutes = Integer(null=True, default=None)


class TicketTag(Table, tablename="ticket_tags"):
    ticket = ForeignKey(Ticket, on_delete=OnDelete.cascade)
    tag = Varchar(length=64)


class TicketCount(Table, tablename="ticket_counts"):
    """Open-ticket counts kept by triggers (core.counts): a count is the sum of its key's rows."""

    id = BigSerial(primary_key=True)
    kind = Varchar(length=16)
    key = Varchar(length=80)
    n = Integer()


class Message(Table, tablename="messages"):
    ticket = ForeignKey(Ticket, on_delete=OnDelete.cascade)
    account = ForeignKey(ChannelAccount, null=True, on_delete=OnDelete.set_null)
    direction = Varchar(length=16)
    customer = ForeignKey(Customer, null=True, on_delete=OnDelete.set_null)
    author = ForeignKey(Agent, null=True, on_delete=OnDelete.set_null)
    subject = Varchar(length=500, null=True, default=None)
    text = Text(default="")
    html = Text(null=True, default=None)
    external_id = Varchar(length=255, null=True, default=None)
    delivery_status = Varchar(length=16, null=True, default=None)
    delivery_error = Text(null=True, default=None)
    metadata = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)


class Attachment(Table, tablename="attachments"):
    message = ForeignKey(Message, on_delete=OnDelete.cascade)
    filename = Varchar(length=255)
    content_type = Varchar(length=127)
    size = Integer()
    sha256 = Varchar(length=64)
    storage_path = Varchar(length=512)
    content_id = Varchar(length=255, null=True, default=None)
    inline = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class Outbox(Table, tablename="outbox"):
    """One row per outbound message until it is delivered or has failed for good.

    The database, not Redis, is the truth: the sweeper re-enqueues rows no job holds.
    """

    message = ForeignKey(Message, on_delete=OnDelete.cascade, unique=True)
    status = Varchar(length=16, default="pending")  # pending, done, failed
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    lease_until = Timestamptz(null=True, default=None)
    # The job holding the lease: a retry of that same job (after the database came back) may take
    # the row again at once instead of waiting for the lease to run out.
    lease_owner = Varchar(length=200, null=True, default=None)
    last_error = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class AuditEntry(Table, tablename="audit_log"):
    actor = Varchar(length=100)
    action = Varchar(length=64)
    entity_type = Varchar(length=32)
    entity_id = Integer()
    changes = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())


class Block(Table, tablename="blocklist"):
    """A blocked sender ("sender": "<channel type>:<handle>"), e-mail domain ("domain") or phone
    number ("phone", digits only): their messages are stored as spam (core.spam, migration core_0012)."""

    kind = Varchar(length=16)
    value = Varchar(length=255)
    created_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class SavedView(Table, tablename="saved_views"):
    """A saved combination of ticket filters (core.ticket_filter): personal (only its owner sees it)
    or shared (everyone sees it, supervisors and admins edit it). Migration core_0014."""

    name = Varchar(length=100)
    owner = Integer()  # the agent who made it (a shared view keeps its maker)
    shared = Boolean(default=False)
    filters = JSON(default={})  # field -> value, as core.ticket_filter.parse takes them
    position = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class LoginThrottle(Table, tablename="login_throttle"):
    """Failed sign-ins per (account, IP) key, shared by every web process (migration core_0003)."""

    key = Varchar(length=300, unique=True)
    failures = Integer(default=0)
    window_started_at = Timestamptz(default=TimestamptzNow())
    locked_until = Timestamptz(null=True, default=None)


class Macro(Table, tablename="macros"):
    """A reply template: jinja2 rendered in the sandbox; a version per channel and language."""

    name = Varchar(length=200)
    shortcut = Varchar(length=64)
    channel_type = Varchar(length=64, null=True, default=None)
    language = Varchar(length=16, null=True, default=None)
    body = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SearchTerm(Table, tablename="search_terms"):
    """Search index: a normalized word, email, number or CJK bigram -> the ticket it occurs in."""

    term = Varchar(length=64)
    ticket = Integer()


class SearchState(Table, tablename="search_state"):
    """How far the search index has read (highest message / customer id indexed)."""

    name = Varchar(length=32, unique=True)
    last_id = Integer(default=0)


class TicketViewer(Table, tablename="ticket_viewers"):
    """Who has a ticket open and who is typing a reply on it (collision detection)."""

    ticket = Integer()
    agent = Integer()
    seen_at = Timestamptz(default=TimestamptzNow())
    typing_at = Timestamptz(null=True, default=None)


class TeamRouting(Table, tablename="team_routing"):
    """How a team's tickets find an agent (core/defaults/routing_strategies.py); `position` orders
    the teams when a ticket's team is chosen by channel."""

    team = Integer(unique=True)
    strategy = Varchar(length=32, default="round_robin")  # round_robin | least_loaded
    position = Integer(default=0)
    channels = JSON(default=[])  # channel types this team takes first; [] = any
    language_match = Boolean(default=True)
    sticky = Boolean(default=False)
    vip_tags = JSON(default=[])  # customer tags that send a ticket to this team, whatever its channel
    keywords = JSON(default=[])  # words in the subject/text that send a ticket to this team
    overflow_team = Integer(null=True, default=None)  # where new tickets go once this queue is too long
    overflow_threshold = Integer(null=True, default=None)  # unassigned open tickets that make it too long
    skills_match = Boolean(default=True)  # prefer agents whose skills name the ticket's intent or a tag
    pool_priorities = JSON(default=[])  # priorities (e.g. ["low"]) that go to the claim pool, not an agent
    claim_cap = Integer(null=True, default=None)  # pooled tickets one agent may hold claimed at once
    pool_alert_minutes = Integer(null=True, default=None)  # alert when a ticket waits in the pool this long


class BusinessCalendar(Table, tablename="business_calendars"):
    """Business hours in a time zone: hours = {"mon": [["09:00", "17:00"]], ...}; holidays = ["2026-12-25"]."""

    name = Varchar(length=100, unique=True)
    timezone = Varchar(length=64, default="UTC")
    hours = JSON(default={})
    holidays = JSON(default=[])


class SlaPolicy(Table, tablename="sla_policies"):
    """Targets for tickets whose fields match `conditions` (priority, channel, customer_tag, team: lists)."""

    name = Varchar(length=100)
    position = Integer(default=0)
    active = Boolean(default=True)
    conditions = JSON(default={})
    first_response_minutes = Integer(null=True, default=None)
    next_response_minutes = Integer(null=True, default=None)
    resolution_minutes = Integer(null=True, default=None)
    calendar = Integer(null=True, default=None)
    # A peak profile (11.11, Black Friday): the policy applies only between these instants.
    starts_at = Timestamptz(null=True, default=None)
    ends_at = Timestamptz(null=True, default=None)
    notice = Text(null=True, default=None)  # what customers are told while it applies
    warning_minutes = Integer(null=True, default=None)  # warn this long before a due time (NULL: 30)


class AgentShift(Table, tablename="agent_shifts"):
    """When an agent works, in the agent's time zone (agents.timezone); routing skips them off shift."""

    agent = Integer(unique=True)
    hours = JSON(default={})
    holidays = JSON(default=[])


class SlaPause(Table, tablename="sla_pauses"):
    """A ticket whose SLA clock is stopped while it waits on the customer."""

    ticket = Integer(unique=True)
    paused_at = Timestamptz(default=TimestamptzNow())


class AutomationRule(Table, tablename="automation_rules"):
    """When `event` happens and `conditions` hold, run `actions` (core/rules.py)."""

    name = Varchar(length=100)
    position = Integer(default=0)
    active = Boolean(default=True)
    event = Varchar(length=64)
    conditions = JSON(default={})
    actions = JSON(default=[])


class RuleFiring(Table, tablename="rule_firings"):
    """A time-triggered rule fired for a ticket at this anchor (the time the waiting began): once."""

    rule = Integer()
    ticket = Integer()
    anchor = Timestamptz()


class Notification(Table, tablename="notifications"):
    """An in-app notification for one agent (rules' notify action, claim-pool alerts)."""

    agent = Integer()
    ticket = Integer(null=True, default=None)
    kind = Varchar(length=32, default="rule")
    text = Text(default="")
    # core_0006: a system notification's template params; `text` is its English rendering, and the
    # inbox renders the template (core.notifications.TEMPLATES[kind]) in the reader's language.
    params = JSON(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class WebhookDelivery(Table, tablename="webhook_deliveries"):
    """A rule's webhook call: the database row is the truth, a job sends it and retries with backoff."""

    rule = Integer()
    ticket = Integer(null=True, default=None)
    url = Varchar(length=2000)
    secret_env = Varchar(length=128, null=True, default=None)
    body = Text(default="")
    status = Varchar(length=16, default="pending")  # pending, done, failed
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    last_error = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PeakNotice(Table, tablename="peak_notices"):
    """The customer of this ticket was told about longer response times (once per ticket)."""

    ticket = Integer(unique=True)
    policy = Integer()
    sent_at = Timestamptz(default=TimestamptzNow())


class DeskIdentity(Table, tablename="desk_identity"):
    """The desk's own id, made once by the migration that creates this table (at init, or on the
    migrate of an older desk). It goes into every outbound idempotency key, so two desks, or one
    desk before and after a database reset, never send the same key for different replies."""

    desk_id = Varchar(length=32, primary_key=True)
    created_at = Timestamptz(default=TimestamptzNow())


class WebSession(Table, tablename="web_sessions"):
    """Agents' browser sessions (litestar's server-side session data), kept in the database so a
    Redis restart or a web process restart signs nobody out."""

    key = Varchar(length=128, primary_key=True)
    data = Text()
    expires_at = Timestamptz(null=True, default=None)


class WorkerHeartbeat(Table, tablename="worker_heartbeats"):
    """One row per `relaydesk worker` process: when it last said it was alive, what it is doing
    (running, waiting for redis, stopping, stopped) and a snapshot of its metrics, so /ready and
    /metrics on any web process see every worker, on whichever machine it runs."""

    name = Varchar(length=200, primary_key=True)
    state = Varchar(length=32, default="running")
    started_at = Timestamptz(default=TimestamptzNow())
    seen_at = Timestamptz(default=TimestamptzNow())
    metrics = Text(default="[]")


POLICY_TABLES: tuple[type[Table], ...] = (TeamRouting, BusinessCalendar, SlaPolicy, SlaPause, AutomationRule,
                                          RuleFiring, AgentShift, Notification, WebhookDelivery, PeakNotice)

from core.reports.tables import REPORT_TABLES  # noqa: E402  (tables only: no cycle)

ALL_TABLES: tuple[type[Table], ...] = (
    *REPORT_TABLES,  # first, like TicketCount: emptied last, after the deletes their triggers record
    TicketCount,  # first: emptied last, after the deletes that its triggers count
    Team, Agent, AgentTeam, ApiToken, ChannelAccount, Customer, Identity, Ticket, TicketTag,
    Message, Attachment, Outbox, AuditEntry, Block, SavedView, LoginThrottle, Macro, SearchTerm, SearchState, TicketViewer,
    *POLICY_TABLES, WebSession, WorkerHeartbeat,
)
# Bound like the others but never emptied by the tests' per-test cleanup: the desk's identity.
SYSTEM_TABLES: tuple[type[Table], ...] = (DeskIdentity,)

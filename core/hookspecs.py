"""Every hook a Relaydesk plugin may implement. Each docstring is the contract.

pluggy is synchronous. Collect hooks and decision hooks (`firstresult=True`) run synchronously and
must be fast. A hook that does I/O returns an awaitable (usually a coroutine) which the core awaits:
write it as a plain ``def`` that returns ``None`` when the call is not for this plugin, or a coroutine
when it is. Channel hooks receive ``channel_type`` first and must return ``None`` for channel types
they did not register.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from pluggy import HookspecMarker

hookspec = HookspecMarker("relaydesk")


# --- registration (collect) -------------------------------------------------------------------


@hookspec
def register_channels(register: Callable[[Any], None]) -> None:
    """Declare channel types by calling ``register(ChannelType(...))`` once per type.

    Each ChannelType names its ``account_settings`` msgspec Struct; every account configured under
    ``[plugins.<plugin>.accounts.<name>]`` is validated against it at start-up. Two plugins that
    register the same channel type name stop start-up.
    """


@hookspec
def register_settings(register: Callable[[str, type], None]) -> None:
    """Declare plugin-wide settings: ``register(plugin_name, StructType)``.

    The keys under ``[plugins.<plugin_name>]`` (other than ``accounts``) are validated against the
    Struct; the validated object is available as ``registry.plugin_settings(plugin_name)``.
    """


@hookspec
def register_routes(register: Callable[[Any], None]) -> None:
    """Add litestar route handlers, controllers or routers: ``register(handler)``."""


@hookspec
def register_jobs(register: Callable[[Any], None]) -> None:
    """Add job functions: ``register(JobSpec(name, func, every=None))``.

    ``func(ctx, *args)`` is a coroutine function; ``ctx["desk"]`` is the running Desk. A job may run
    more than once (a worker can die mid-job), so it must be idempotent. ``every`` (seconds) makes it
    periodic: it runs on every worker and in the embedded runner, so it must tolerate concurrency.
    """


@hookspec
def register_migrations(register: Callable[[str, str], None]) -> None:
    """Add a piccolo migrations folder for the plugin's own tables: ``register(app_name, folder)``.

    The core's migrations run first, then each plugin's, in the order plugins are enabled.
    """


@hookspec
def register_commands(register: Callable[[Any], None]) -> None:
    """Add click commands or groups to the ``relaydesk`` CLI: ``register(click_command)``.

    They appear when the plugin is enabled in the plugins.toml the CLI reads (``--config``, given
    before or after the command, or $RELAYDESK_CONFIG, default ./plugins.toml); where the plugin
    is installed but not enabled, the command exits 78 (sysexits EX_CONFIG) saying so. A command
    reaches the desk through ``click.get_current_context().obj["settings_path"]``.
    """


# --- channels (one implementation answers per channel type) -----------------------------------


@hookspec(firstresult=True)
def parse_webhook(channel_type: str, account: Any, request: Any) -> Any:
    """Verify and parse a webhook sent to ``/hooks/<plugin>/<account>``.

    ``account`` is the core.types.Account; ``request`` a core.types.WebhookRequest with the raw body.
    Verify the signature over the raw bytes *before* parsing and raise core.errors.SignatureInvalid
    when it fails (401), core.errors.InvalidRequest for a malformed body (400, the message is shown
    to the sender). Return a core.types.WebhookResult. Return None for channel types you did not
    register. Stops at the first non-None result. Must not do I/O: slow work goes to jobs; a webhook
    that carries data for the plugin's own tables (an order update) sets ``WebhookResult.apply``, a
    coroutine function the core awaits with the Desk before it acknowledges.
    """


@hookspec(firstresult=True)
def poll(channel_type: str, account: Any, cursor: str | None) -> Awaitable[Any] | None:
    """Fetch what is new since ``cursor`` for channels that are polled (IMAP, marketplaces).

    Return an awaitable of ``(list[InboundMessage], new_cursor)``, or of
    ``(list[InboundMessage], new_cursor, list[StatusUpdate])`` when the poll also found delivery
    reports (bounces) for outbound messages; the core stores the messages and statuses and
    only then saves the new cursor, so a crash mid-batch fetches the batch again (ingest dedupes).
    Return None for channel types you did not register. Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def send_message(channel_type: str, account: Any, message: Any) -> Awaitable[Any] | None:
    """Deliver one outbound message (core.types.OutboundMessage).

    ``message.attachments`` holds the files the agent sent with it, already checked against the
    channel type's ChannelLimits (count, size, attachment_types); a channel that declares
    ``max_attachments`` of 0 or None never gets any.

    Return an awaitable of core.types.SendResult with the platform's message id. Pass
    ``message.idempotency_key`` to the platform when it supports one: the same key arrives on every
    retry of the same message. A platform without one can lose the answer to a message it took;
    from ``message.attempt`` > 1 on, look for that earlier copy before sending again. Raise core.errors.ChannelError(retryable=...) on failure, with the
    platform's code. Return None for channel types you did not register. Stops at the first
    non-None result.
    """


@hookspec
def reply_constraints(channel_type: str, account: Any, ticket: dict[str, Any]) -> dict[str, Any] | None:
    """What limits a reply on this ticket right now, beyond the channel type's static ChannelLimits.

    Return a dict with any of: ``window_closes_at`` (aware datetime when free-form replies stop being
    allowed, e.g. Meta's 24-hour window), ``window_kind`` (short label such as "24h" or
    "human_agent"), ``blocked_reason`` (str: why a free-form reply cannot be sent now),
    ``templates`` (list of dicts ``{"name", "language", "params"}`` the agent may send instead;
    optionally ``"text"`` with ``{{param}}`` placeholders, ``"header"``, ``"footer"``, ``"category"``
    and ``"examples"`` ({param: sample value}); a reply sends one with
    ``metadata["template"] = {"name", "language", "params": {param: value}}``, see
    core/reply_templates.py), ``templates_error`` (str, in the agent's language: why the list may be
    incomplete, e.g. the platform refused to list them), and any ChannelLimits field to narrow it
    for this ticket (e.g. ``max_attachments``, ``max_attachment_bytes``, ``attachment_types``: the
    reply box shows them and core.reply_files refuses files beyond them). The core orders
    ``templates`` by the ticket's language. Return None for channel types you did not register.
    Results of all plugins are merged.
    """


@hookspec
def refresh_reply_templates(channel_type: str, account: Any) -> Awaitable[Any] | None:
    """Fetch the account's message templates again now, replacing what you cached (the agent pressed
    "refresh"). Return an awaitable (its value is ignored; the next ``reply_constraints`` call
    shows the new list and any ``templates_error``), or None for channel types you did not register.
    """


# --- context and classification (collect) -----------------------------------------------------


@hookspec
def customer_context(customer: dict[str, Any], ticket: dict[str, Any] | None) -> Awaitable[dict[str, Any]] | dict[str, Any] | None:
    """Contribute context about a customer: orders, returns, tracking, lifetime value.

    Return a dict (or an awaitable of one) under a key naming your plugin, e.g.
    ``{"orders": [...]}``. The dicts of all plugins are merged for the ticket view, templates and
    rule conditions. Return None to add nothing.
    """


@hookspec
def classify(message: Any, ticket: dict[str, Any]) -> dict[str, Any] | None:
    """Classify a new inbound message (core.types.InboundMessage) before routing.

    Return a dict with any of ``language`` (ISO 639-1), ``intent`` (a short code such as
    ``wismo`` or ``return_refund``; rules' ``intent`` condition and routing skills match it),
    ``sentiment`` (``negative``, ``neutral`` or ``positive``: what rules' ``sentiment`` condition
    lists), ``tags`` (list of str, e.g. ``angry``), ``priority`` (urgent/high/normal/low). Runs
    inside the ingest transaction: must be fast and do no I/O (queue a job for heavy models).
    Return None to add nothing.
    """


@hookspec(firstresult=True)
def adapt_inbound(message: Any, account: Any) -> Any:
    """Claim an inbound message that arrived through any channel account (relay mail from a
    marketplace arriving through an email account, say) before the core resolves its customer and
    threads it.

    ``message`` is the core.types.InboundMessage as the channel parsed it, ``account`` the
    core.types.Account it arrived on. Return a core.types.InboundClaim: the core replaces the text
    (and HTML), subject, sender name and thread key the claim sets, adds its order ids, stores
    ``{"kind": claim.kind, **claim.fields}`` as ``metadata["conversation"]`` and tags the ticket
    with ``claim.kind`` and ``claim.tags``. Return None to leave the message alone. Stops at the
    first non-None result. Runs inside the ingest transaction: must be fast and do no I/O (a plugin
    that needs its own tables written does that from ``ticket_event``).
    """


@hookspec
def shape_outbound(account: Any, message: Any, ticket: dict[str, Any]) -> Awaitable[None] | None:
    """Adjust an outbound message just before its channel sends it, for conversations whose far
    end judges what it receives (a marketplace relay that rejects tracking or unknown senders).

    ``message`` is the core.types.OutboundMessage, changed in place: its ``from_address``,
    ``plain_text`` and ``untracked`` fields are honoured by the channels that have such things
    (email), and ``text`` may be rewritten. ``ticket`` has ``id``, ``customer``, ``channel_type``,
    ``subject`` and ``tags``. Return None, or an awaitable when the decision needs I/O. Runs on
    every delivery attempt, so it must give the same result each time. An exception fails the
    attempt (retryable), so the message is never sent unshaped.
    """


@hookspec
def check_draft(ticket: dict[str, Any], text: str, language: str) -> Any:
    """Check a reply draft against the rules of the conversation's far end (a marketplace's
    messaging policy) before it is sent.

    ``ticket`` has ``id``, ``customer``, ``account``, ``channel_type``, ``subject`` and ``tags``;
    ``language`` is the agent's UI language (``en``, ``zh``). Return a list of
    core.types.DraftProblem (empty or None when the draft is fine), or an awaitable of one. The
    reply box and the API show the problems before sending; core.outbound.reply refuses a reply
    with problems (core.errors.DraftRejected, 422) and lists them. Results of all plugins are joined.
    """


# --- decisions (firstresult) ------------------------------------------------------------------


@hookspec(firstresult=True)
def route(ticket: dict[str, Any], desk: Any) -> Any:
    """Pick the agent and/or team for a ticket that needs an owner.

    Return core.routing.RouteDecision(agent_id, team_id, reason) or None to leave the decision
    to the next implementation. The built-in default leaves the ticket unassigned in its team's
    queue. Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def sla_targets(ticket: dict[str, Any]) -> Any:
    """Return core.sla.SlaTargets (first response, next response and resolution, in minutes;
    any may be None for "no target") for a ticket, or None to defer. Stops at the first non-None
    result; the built-in default gives targets by priority.
    """


@hookspec(firstresult=True)
def translate(text: str, source: str | None, target: str) -> Awaitable[str] | None:
    """Translate ``text`` from ``source`` (None: detect) into ``target``; return an awaitable of
    the translation, or None when you do not translate. Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def desk_mail(desk: Any) -> Any:
    """Offer the desk a way to mail its own agents (invitations, password resets).

    Return an async callable ``send(to: str, subject: str, text: str)`` that delivers one plain-text
    mail and raises core.errors.ChannelError when it cannot, or None when this plugin has no
    outgoing mail configured. Must not do I/O itself. Stops at the first non-None result; with no
    answer the desk shows links to the admin instead of mailing them.
    """


# --- reports (collect) ------------------------------------------------------------------------


@hookspec
def report_figures(start: Any, end: Any) -> Awaitable[list[dict[str, Any]]] | list[dict[str, Any]] | None:
    """Figures a plugin adds to the reports (the CSAT plugin: CSAT % and NPS) for the instants
    [start, end) (aware datetimes, UTC). Return a list, or an awaitable of one, of
    ``{"key": str, "label": str, "value": float | None, "count": int}``: ``key`` is unique across
    plugins (prefix it with the plugin's name), ``label`` is English (the inbox translates the
    labels its catalog knows), ``value`` None when there is nothing to show, ``count`` how many
    answers or events the value rests on. Return None to add nothing. Called once per period the
    reports show (the chosen one and the one before), so keep it to one indexed query.
    """


# --- lifecycle (collect) ----------------------------------------------------------------------


@hookspec
def ticket_event(event: Any) -> Awaitable[None] | None:
    """React to a ticket event (core.events.Event): created, customer_replied, agent_replied,
    note_added, assigned, status_changed, solved, delivery_failed, sla_warning, sla_breach,
    pool_alert (a ticket waited in a team's claim pool past the team's threshold),
    message_withdrawn (the customer took a message back; its text is gone).

    Called after the change has committed. Return None, or an awaitable for I/O. An exception is
    logged and does not undo the change or stop other plugins.
    """


@hookspec
def render_panel(ticket: dict[str, Any], customer: dict[str, Any], context: dict[str, Any],
                 agent: dict[str, Any] | None) -> Any:
    """Return a panel for the ticket view: ``{"title": str, "html": str}`` (html is rendered as
    given, so escape what you interpolate) or an awaitable of one, or None.

    ``agent`` is the signed-in agent who views the page (``id``, ``role``, ``locale``...), so a
    panel can leave out the actions the agent's role may not take; None outside a page. An
    implementation may leave the argument out. Panel HTML is sanitized by the inbox: besides the
    usual markup and ``class``, it may hold forms, buttons and htmx requests (``hx-get``,
    ``hx-post``, ``action``) whose URL is under ``/inbox/plugins/<plugin name>/`` (see
    docs/writing-a-plugin.md); any other target is removed.
    """


@hookspec
def startup(desk: Any) -> Awaitable[None] | None:
    """The desk has started (web process or worker). Open clients here; return an awaitable for I/O."""


@hookspec
def shutdown(desk: Any) -> Awaitable[None] | None:
    """The desk is stopping (web process, worker or embedded desk). Close the clients and tasks that
    ``startup`` opened; return an awaitable for I/O. An exception is logged and stops nothing else."""

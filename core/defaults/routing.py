"""Default routing: leave the ticket in its team's unassigned queue. Strategy plugins override it."""

from core.plugins import hookimpl
from core.routing import RouteDecision


@hookimpl(trylast=True)
def route(ticket, desk):
    return RouteDecision(agent_id=ticket.get("assignee"), team_id=ticket.get("team"),
                         reason="default: no strategy configured, left in the queue")

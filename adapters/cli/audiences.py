"""`trends audiences …`: create, list and delete audiences, and manage the workspaces that own them.

The command line is the deployment's own shell, so these act as a deployment admin: no ownership
check. In chat, the same changes go through the admin check of `bot.audiences`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from adapters.cli.app import audiences_app, console, container, owners_app
from adapters.cli.digest import _actor

if TYPE_CHECKING:
    from bot.audiences import AudienceView

OwnerArgument = Annotated[str, typer.Argument(help="slack:<team id> or discord:<server id>.")]


def _table(audiences: list[AudienceView]) -> Table:
    table = Table(title="Audiences")
    table.add_column("Name")
    table.add_column("Owners", overflow="fold")
    table.add_column("Topics", justify="right")
    table.add_column("Channels", justify="right")
    table.add_column("Digests", justify="right")
    for a in audiences:
        unowned = "— (the first platform admin to use it)" if a.name == "default" else "— (deployment admins)"
        owners = ", ".join(str(o) for o in a.owners) or unowned
        table.add_row(a.name, owners, str(a.topics), str(a.subscriptions), str(a.digests))
    return table


@audiences_app.command("list")
def audiences_list() -> None:
    """Show every audience with its owners and how many topics, channels and digests it has."""
    from bot.audiences import AudienceService

    with container() as c:
        views = AudienceService(c.uow, c.settings).list_audiences()
    console.print(_table(views))


@audiences_app.command("create")
def audiences_create(
    name: str,
    owner: Annotated[
        list[str] | None,
        typer.Option("--owner", "-o", help="slack:<team id> or discord:<server id> (repeatable)."),
    ] = None,
) -> None:
    """Create an audience, e.g. trends audiences create vision --owner slack:T0123"""
    from adapters.cli.app import run_command
    from bot.audiences import AudienceService, Workspace

    owners = run_command(lambda: [Workspace.parse(o) for o in owner or []])
    with container() as c:
        view = AudienceService(c.uow, c.settings).create(name, owners, actor=_actor())
    console.print(f"Created audience “{view.name}”.")
    if not view.owners:
        console.print("It has no owner yet: only deployment admins can administer it until you add one.")


@audiences_app.command("delete")
def audiences_delete(name: str) -> None:
    """Delete an audience with its topics, drafts and subscriptions (not one with published digests)."""
    from bot.audiences import AudienceService

    with container() as c:
        view = AudienceService(c.uow, c.settings).delete(name, actor=_actor())
    console.print(f"Deleted audience “{view.name}” ({view.topics} topics, {view.subscriptions} channels).")


@owners_app.command("add")
def owners_add(name: str, workspace: OwnerArgument) -> None:
    """Let a workspace's admins administer it, e.g. trends audiences owners add vision discord:123"""
    from adapters.cli.app import run_command
    from bot.audiences import AudienceService, Workspace

    owner = run_command(lambda: Workspace.parse(workspace))
    with container() as c:
        view = AudienceService(c.uow, c.settings).add_owner(name, owner, actor=_actor())
    console.print(_table([view]))


@owners_app.command("remove")
def owners_remove(name: str, workspace: OwnerArgument) -> None:
    """Stop a workspace's admins administering the audience."""
    from adapters.cli.app import run_command
    from bot.audiences import AudienceService, Workspace

    owner = run_command(lambda: Workspace.parse(workspace))
    with container() as c:
        view = AudienceService(c.uow, c.settings).remove_owner(name, owner, actor=_actor())
    console.print(_table([view]))

"""Audiences in the core: migration 0006 moves an existing deployment into `default`; the admin rule
(deployment admins, owners, the first claim of an unowned `default`); settings; the one-line command
forms; approval values; "no repeats" per audience; deleting audiences."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text

from bot.audiences import DEFAULT_AUDIENCE, AudienceService, Workspace
from bot.bootstrap import Container, build
from bot.chat import commands as c
from bot.db import migrations
from bot.db.models import Audience, AudienceOwner, Paper, Topic
from bot.digest.service import DigestService
from bot.digest.topics import TopicDraft, TopicService
from bot.errors import ConfigError, ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from bot.invocation import Invocation
from bot.scheduler.approval import approve_target, approve_value, parse_approve_value
from bot.settings import load_settings
from tests.factories import add_published_digest, make_paper

NOW = dt.datetime(2026, 10, 5, 12, tzinfo=dt.UTC)


# --- migration 0006 ---------------------------------------------------------------------------


def _rows_before_audiences(engine: Engine) -> None:
    """A deployment at revision 0005: a topic, a published digest, two subscribed channels, a vote."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO papers (arxiv_id, version, title, abstract, authors, authors_text, categories, "
                "primary_category, submitted_at, updated_at, abs_url, pdf_url, harvested_at, refreshed_at) "
                "VALUES ('2610.00001', 1, 'A paper', 'An abstract.', '[]', '', '[\"cs.LG\"]', 'cs.LG', "
                ":now, :now, 'u', 'u', :now, :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO topics (name, description, include_phrases, exclude_phrases, example_ids, "
                "weight, enabled, created_at, updated_at) "
                "VALUES ('Agents', '', '[\"agent\"]', '[]', '[]', 1.0, true, :now, :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO digests (month, status, title, intro, topics_covered, created_at) "
                "VALUES ('2026-09', 'published', 'Trends in AI', '', '[]', :now)"
            ),
            {"now": NOW},
        )
        for platform, workspace, channel in (
            ("slack", "T1", "C1"),
            ("slack", "T1", "C2"),
            ("discord", "9", "8"),
        ):
            conn.execute(
                text(
                    "INSERT INTO subscriptions (platform, workspace_id, channel_id, channel_kind, active, "
                    "created_by, created_at) VALUES (:p, :w, :c, 'text', true, '', :now)"
                ),
                {"p": platform, "w": workspace, "c": channel, "now": NOW},
            )
        conn.execute(
            text(
                "INSERT INTO votes (platform, workspace_id, user_id, paper_id, value, created_at) "
                "SELECT 'slack', 'T1', 'U1', id, 1, :now FROM papers"
            ),
            {"now": NOW},
        )


def test_migration_moves_everything_into_default_owned_by_the_subscribed_workspaces(
    empty_engine: Engine,
) -> None:
    migrations.upgrade(empty_engine, "0005")
    _rows_before_audiences(empty_engine)
    migrations.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        default = conn.execute(text("SELECT id FROM audiences WHERE name = 'default'")).scalar_one()
        for table in ("topics", "digests", "subscriptions", "votes"):
            ids = set(conn.execute(text(f"SELECT audience_id FROM {table}")).scalars())
            assert ids == {default}, table
        owners = {
            tuple(row) for row in conn.execute(text("SELECT platform, workspace_id FROM audience_owners"))
        }
        assert owners == {("slack", "T1"), ("discord", "9")}

    # The same month may now exist once per audience, and the same topic name too.
    with empty_engine.begin() as conn:
        conn.execute(
            text("INSERT INTO audiences (name, created_by, created_at) VALUES ('vision', '', :n)"), {"n": NOW}
        )
        vision = conn.execute(text("SELECT id FROM audiences WHERE name = 'vision'")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO digests (audience_id, month, status, title, intro, topics_covered, created_at) "
                "VALUES (:a, '2026-09', 'draft', 'Trends in AI', '', '[]', :now)"
            ),
            {"a": vision, "now": NOW},
        )
    # Folding two audiences back into one table keyed by month would collide: the downgrade refuses.
    with pytest.raises(Exception, match="audiences other than 'default' exist"):
        migrations.downgrade(empty_engine, "0005")
    with empty_engine.begin() as conn:
        conn.execute(text("DELETE FROM digests WHERE audience_id = :a"), {"a": vision})
        conn.execute(text("DELETE FROM audiences WHERE id = :a"), {"a": vision})
    migrations.downgrade(empty_engine, "0005")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM subscriptions")).scalar() == 3
        assert conn.execute(text("SELECT count(*) FROM votes")).scalar() == 1
        assert conn.execute(text("SELECT month FROM digests")).scalars().all() == ["2026-09"]
    migrations.upgrade(empty_engine)  # and up again, with the rows kept
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM topics WHERE audience_id IS NOT NULL")).scalar() == 1


# --- the admin rule -----------------------------------------------------------------------------


@pytest.fixture
def container(db_url: str) -> Iterator[Container]:
    built = build(load_settings(database_url=db_url, admin_user_ids=["slack:T9:UDEPLOY", "ULEGACY"]))
    yield built
    built.close()


def inv(workspace: str, user: str = "U1", *, admin: bool = True, platform: str = "slack") -> Invocation:
    return Invocation(platform, workspace, "C1", user, is_platform_admin=admin)


def test_owners_administer_their_audiences_only(container: Container) -> None:
    service = AudienceService(container.uow, container.settings)
    service.create("vision", [Workspace("slack", "TA")], actor="test")
    service.authorize(inv("TA"), "vision")
    with pytest.raises(PermissionDeniedError, match="belongs to another workspace"):
        service.authorize(inv("TB"), "vision")
    with pytest.raises(PermissionDeniedError, match="belongs to another workspace"):
        service.authorize(inv("TA", platform="discord"), "vision")  # same id, other platform
    with pytest.raises(PermissionDeniedError, match="only workspace admins"):
        service.authorize(inv("TA", admin=False), "vision")
    # Deployment admins: qualified entries match their workspace only; a legacy bare id anywhere.
    service.authorize(inv("T9", "UDEPLOY", admin=False), "vision")
    with pytest.raises(PermissionDeniedError):
        service.authorize(inv("T8", "UDEPLOY", admin=False), "vision")
    service.authorize(inv("TZ", "ULEGACY", admin=False, platform="discord"), "vision")
    # A second owner is added by a deployment admin (CLI), and removed again.
    service.add_owner("vision", Workspace("slack", "TB"), actor="test")
    service.authorize(inv("TB"), "vision")
    service.remove_owner("vision", Workspace("slack", "TB"), actor="test")
    with pytest.raises(PermissionDeniedError):
        service.authorize(inv("TB"), "vision")
    with pytest.raises(NotFoundError, match="There is no audience “nope”"):
        service.authorize(inv("TA"), "nope")


def test_an_unowned_default_is_claimed_by_the_first_platform_admin_only(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    service = AudienceService(container.uow, container.settings)
    with pytest.raises(PermissionDeniedError):
        service.authorize(inv("TA", admin=False), DEFAULT_AUDIENCE)  # a member claims nothing
    with caplog.at_level(logging.WARNING, logger="bot.audiences"):
        service.authorize(inv("TA"), DEFAULT_AUDIENCE)
    assert "claimed by slack:TA" in caplog.text
    with pytest.raises(PermissionDeniedError, match="belongs to another workspace"):
        service.authorize(inv("TB"), DEFAULT_AUDIENCE)
    assert service.get(DEFAULT_AUDIENCE).owners == (Workspace("slack", "TA"),)
    # Any other unowned audience is for deployment admins only.
    service.create("orphan", [], actor="test")
    with pytest.raises(PermissionDeniedError):
        service.authorize(inv("TA"), "orphan")
    with container.uow() as uow:
        orphan = uow.session.scalar(select(Audience.id).where(Audience.name == "orphan"))
        assert (
            uow.session.scalars(select(AudienceOwner).where(AudienceOwner.audience_id == orphan)).all() == []
        )


def test_audience_names_and_workspaces_are_checked(container: Container) -> None:
    service = AudienceService(container.uow, container.settings)
    for bad in ("", "Has Space", "x" * 41, "-lead", "semi;colon"):
        with pytest.raises(ValidationError):
            service.create(bad, actor="test")
    assert service.create("Vision-Team", actor="test").name == "vision-team"
    with pytest.raises(ConflictError, match="already exists"):
        service.create("vision-team", actor="test")
    for bad in ("T1", "teams:T1", "slack:", "slack:T 1"):
        with pytest.raises(ValidationError):
            Workspace.parse(bad)
    assert Workspace.parse(" Discord:123 ") == Workspace("discord", "123")


def test_delete_keeps_default_and_published_history(container: Container) -> None:
    service = AudienceService(container.uow, container.settings)
    service.create("vision", [Workspace("slack", "TA")], actor="test")
    service.create("nlp", [Workspace("slack", "TA")], actor="test")
    TopicService(container.uow, container.settings).add(
        TopicDraft("Detection", include=("detect",)), actor="t", audience="nlp"
    )
    with container.uow() as uow:
        paper = make_paper("2610.00001")
        uow.session.add(paper)
        uow.session.flush()
        vision = uow.session.scalar(select(Audience.id).where(Audience.name == "vision"))
        add_published_digest(uow.session, "2026-09", [paper], audience=vision)
        uow.commit()
    with pytest.raises(ConflictError, match="can't be deleted"):
        service.delete(DEFAULT_AUDIENCE, actor="test")
    with pytest.raises(ConflictError, match="published digest"):
        service.delete("vision", actor="test")
    with container.uow() as uow:
        before = len(uow.session.scalars(select(Topic.id)).all())
    deleted = service.delete("nlp", actor="test")
    assert deleted.topics >= 1  # "Detection" and the seeded ones
    with container.uow() as uow:
        assert len(uow.session.scalars(select(Topic.id)).all()) == before - deleted.topics
        assert "Detection" not in uow.session.scalars(select(Topic.name)).all()
    assert [a.name for a in service.list_audiences()] == [DEFAULT_AUDIENCE, "vision"]


def test_no_repeats_is_per_audience(container: Container) -> None:
    """A paper vision featured in September is never vision's again, but nlp may pick it."""
    with container.uow() as uow:
        papers = [  # distinct papers, so none is dropped as another's near-duplicate
            make_paper(
                f"2610.0000{i}", title=f"Agents that plan {subject}", abstract=f"LLM agents plan {subject}."
            )
            for i, subject in enumerate(("tool use", "web browsing", "robot chores"), start=1)
        ]
        uow.session.add_all(papers)
        uow.commit()
    audiences = AudienceService(container.uow, container.settings)
    audiences.create("vision", actor="test")
    audiences.create("nlp", actor="test")
    with container.uow() as uow:
        vision = uow.session.scalar(select(Audience.id).where(Audience.name == "vision"))
        first = uow.session.scalars(select(Paper).order_by(Paper.arxiv_id)).first()
        assert first is not None
        add_published_digest(uow.session, "2026-09", [first], audience=vision)
        shown = first.arxiv_id
        uow.commit()
    digests = DigestService(container.uow, container.settings)
    shared = digests.load_month("2026-10")
    vision_picks = {
        p.candidate.arxiv_id for p in digests.rank("2026-10", audience="vision", shared=shared).picks
    }
    nlp_picks = {p.candidate.arxiv_id for p in digests.rank("2026-10", audience="nlp", shared=shared).picks}
    assert shown not in vision_picks
    assert shown in nlp_picks
    assert vision_picks  # the others are still vision's to pick


# --- settings, command forms, approval values ----------------------------------------------------


def test_admin_ids_qualified_bare_and_wrong(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(admin_user_ids="Slack:T1:U1, discord:123:456")
    assert settings.admin_user_ids == ["slack:T1:U1", "discord:123:456"]
    with caplog.at_level(logging.WARNING, logger="bot.settings"):
        assert load_settings(admin_user_ids="U0LEGACY").admin_user_ids == ["U0LEGACY"]
    assert "deprecated" in caplog.text
    for bad in ("slack:U1", "teams:T1:U1", "slack:T1:U1:extra", "slack:T 1:U1"):
        with pytest.raises(ConfigError, match="TRENDS_ADMIN_USER_IDS"):
            load_settings(admin_user_ids=bad)


def test_allowed_workspaces_setting() -> None:
    settings = load_settings(allowed_workspaces="T0123, slack:T0456,discord:789")
    assert settings.allowed_workspaces == ["T0123", "T0456", "789"]
    assert settings.workspace_allowed("789")
    assert not settings.workspace_allowed("T9")
    assert load_settings().workspace_allowed("anything")  # no list: anywhere
    with pytest.raises(ConfigError, match="TRENDS_ALLOWED_WORKSPACES"):
        load_settings(allowed_workspaces="T1;drop")


def test_one_line_command_forms_name_the_audience() -> None:
    assert c.parse_command("subscribe") == c.Subscribe()
    assert c.parse_command("subscribe vision") == c.Subscribe("vision")
    assert c.parse_command("subscribe audience=vision") == c.Subscribe("vision")
    assert c.parse_command("publish 2026-10 vision") == c.Publish("2026-10", "vision")
    assert c.parse_command("preview audience=nlp") == c.Preview(None, "nlp")
    assert c.parse_command("topics audience=nlp") == c.TopicsList("nlp")
    assert c.parse_command("topics remove Agents audience=nlp") == c.TopicsRemove("Agents", "nlp")
    added = c.parse_command('topics add Robots include="robot" audience=nlp')
    assert isinstance(added, c.TopicsAdd)
    assert (added.draft.name, added.audience) == ("Robots", "nlp")
    for bad in ("subscribe a b", "publish 2026-10 a b", "topics add X audience="):
        with pytest.raises(ValidationError):
            c.parse_command(bad)


def test_approve_values_carry_the_audience() -> None:
    assert approve_value("2026-10") == "2026-10"  # buttons posted before audiences still work
    assert approve_value("2026-10", DEFAULT_AUDIENCE) == "2026-10"
    key = approve_value("2026-10", "vision")
    assert parse_approve_value(key) == "2026-10@vision"
    assert approve_target("2026-10@vision") == ("2026-10", "vision")
    assert approve_target("2026-10") == ("2026-10", None)
    for bad in ("2026-10@Bad Name", "2026-13@x", "2026-10@" + "x" * 60, None, 7):
        assert parse_approve_value(bad) is None


def test_search_covers_every_audience_and_says_whose_digest_featured_a_paper(container: Container) -> None:
    from bot.archive.service import ArchiveService

    AudienceService(container.uow, container.settings).create("vision", actor="test")
    with container.uow() as uow:
        ours = make_paper("2609.00001", title="Okapi detection transformers", abstract="Okapi detection.")
        theirs = make_paper("2609.00002", title="Okapi language agents", abstract="Okapi agents.")
        uow.session.add_all([ours, theirs])
        uow.session.flush()
        vision = uow.session.scalar(select(Audience.id).where(Audience.name == "vision"))
        add_published_digest(uow.session, "2026-09", [ours], audience=vision)
        add_published_digest(uow.session, "2026-09", [theirs])  # default's
        uow.commit()
    result = ArchiveService(container).search("okapi")
    reasons = {hit.arxiv_id: hit.reason for hit in result.hits}
    assert "featured in September 2026 (vision digest)" in reasons["2609.00001"]
    assert reasons["2609.00002"].endswith("featured in September 2026")  # the default audience's
    featured = {hit.arxiv_id: hit.featured for hit in result.hits}
    assert featured["2609.00001"] is not None
    assert featured["2609.00001"].audience == "vision"

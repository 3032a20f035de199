"""Answers taken by telephone or on a home visit, entered at the console by a supervisor or admin: a building's
households with who has answered and how, and a household's survey as a form (the owner's survey page's own
question fields, templates/survey_questions.html) with the channel to choose. Every rule is the domain's
(surveys/staff_answers.py): the skip logic is applied as on the owner's page (surveys.answers.drop_hidden), then
the survey's checks; a form sent from a view that is no longer true is refused (409), as is one over a household's
own answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from api.deps import AppServices, Conn
from api.pages.console import HOME, console_page, property_in_view
from api.pages.console_surveys import campaign_page
from api.pages.formats import when
from api.pages.lang import lang_of
from api.pages.session import Manager
from api.pages.survey import answers_from_form, question_views, seen_from_form
from api.pages.texts import in_lang
from bootstrap.services import Services
from core.access import Caller
from core.errors import Conflict, Invalid
from surveys import campaigns, staff_answers
from surveys.answers import drop_hidden
from surveys.schemas import HouseholdAnswers


def households_page(campaign_id: str, building_id: str) -> str:
    return f"{campaign_page(campaign_id)}/households?building={building_id}"


def answer_page(campaign_id: str, unit_id: str) -> str:
    return f"{campaign_page(campaign_id)}/households/{unit_id}/answer"


class ConsoleSurveyAnswerPages(Controller):
    path = f"{HOME}/campaigns/{{campaign_id:str}}/households"
    include_in_schema = False

    @get("/")
    async def households(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
        building: Annotated[str, QueryParameter(min_length=1, max_length=64)],
    ) -> Template:
        now = services.clock.now()
        campaign = await campaigns.get_campaign(conn, manager, campaign_id, now)
        prop = await property_in_view(conn, manager, campaign.property_id)
        found = await staff_answers.households(conn, manager, campaign_id, building, now)
        lang = lang_of(request)
        entered = request.query_params.get("entered", "")
        rows = [
            {
                "household": h,
                "when": when(request, h.responded_at, prop.timezone),
                "href": answer_page(campaign_id, h.unit_id),
                "entered": h.unit_id == entered,
            }
            for h in found
        ]
        context = {
            "campaign": campaign,
            "title": campaign.name_zh if lang == "zh" else campaign.name_en,
            "back": campaign_page(campaign_id),
            "rows": rows,
            "answered": sum(1 for h in found if h.answered),
            "building_id": building,
        }
        return console_page(
            request,
            services,
            manager,
            "console/campaign_households.html",
            context,
            section="surveys",
            prop=prop,
            heading="console.surveys.households",
        )

    @get("/{unit_id:str}/answer")
    async def form(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[str],
        unit_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Template:
        found = await staff_answers.household_answers(conn, manager, campaign_id, unit_id, services.clock.now())
        return await _render(request, conn, services, manager, found)

    @post("/{unit_id:str}/answer", status_code=303)
    async def answer(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[str],
        unit_id: FromPath[str],
        manager: Manager,
        conn: Conn,
        services: AppServices,
    ) -> Response[Any]:
        sent = await request.form()
        now = services.clock.now()
        lang = lang_of(request)
        found = await staff_answers.household_answers(conn, manager, campaign_id, unit_id, now)
        template = found.form.template
        given = answers_from_form(template.questions, sent)
        channel = str(sent.get("channel") or "")
        replace = sent.get("replace") == "1"
        try:
            async with conn.transaction():  # a refusal stores nothing
                await staff_answers.submit_by_staff(
                    conn,
                    manager,
                    campaign_id,
                    unit_id,
                    drop_hidden(template, given),
                    now,
                    channel=channel,
                    seen=seen_from_form(sent),
                    replace=replace,
                )
        except Invalid as invalid:
            errors = {e.field.removeprefix("answers."): in_lang(e.message, lang) for e in invalid.errors}
            kept = {"channel": channel, "replace": replace}
            return await _render(
                request, conn, services, manager, found, values=given, errors=errors, kept=kept, status=422
            )
        except Conflict as conflict:
            fresh = await staff_answers.household_answers(conn, manager, campaign_id, unit_id, now)
            refusal = in_lang(conflict.detail, lang)
            return await _render(request, conn, services, manager, fresh, refusal=refusal, status=409)
        return Redirect(f"{households_page(campaign_id, found.building_id)}&entered={unit_id}", status_code=303)


async def _render(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    services: Services,
    manager: Caller,
    found: HouseholdAnswers,
    *,
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
    kept: Mapping[str, object] | None = None,
    refusal: str = "",
    status: int = 200,
) -> Template:
    form = found.form
    lang = lang_of(request)
    prop = await property_in_view(conn, manager, found.property_id)
    errors = errors or {}
    answers = form.answers or {} if values is None else values
    context = {
        "found": found,
        "form": form,
        "title": form.name_zh if lang == "zh" else form.name_en,
        "questions": question_views(form, answers, {k: v for k, v in errors.items() if k != "channel"}, lang),
        "errors": errors,
        "channel_error": errors.get("channel", ""),
        "channel": (kept or {}).get("channel", ""),
        "replace": bool((kept or {}).get("replace")),
        "seen": form.answered_at.isoformat() if form.answered_at else "",
        "answered": when(request, form.answered_at, form.time_zone),
        "closes": when(request, form.closes_at, form.time_zone),
        "refusal": refusal,
        "action": answer_page(form.campaign_id, found.unit_id),
        "back": households_page(form.campaign_id, found.building_id),
    }
    return console_page(
        request,
        services,
        manager,
        "console/campaign_answer.html",
        context,
        section="surveys",
        prop=prop,
        heading="console.surveys.answer",
        status=status,
    )

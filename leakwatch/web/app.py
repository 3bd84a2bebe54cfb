"""The web board as an ASGI app: both cards on the cards' SQL, the managers, the drill-down of
cases and the review queue. The process that owns the store mounts it (`create_app`):
`leakwatch sink` serves it at "/" (services/sink/board.py). Links follow the mount's root_path.

Server-rendered (Jinja2) with htmx for the live parts: fragments under /fragments/ are
re-fetched on a timer and when a filter changes; a review is a form POST whose answer
replaces its row and tells the cards to refresh. The same numbers as JSON under /api/.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError

from leakwatch.cards.labels import translator
from leakwatch.cards.people import read_managers, read_pending, read_review_queue
from leakwatch.cards.period import parse_instant
from leakwatch.cards.queries import VARIABLES
from leakwatch.cards.snapshot import Queryable, period_sql, read_cards
from leakwatch.cards.macros import ALL, expand
from leakwatch.domain.money import format_rub
from leakwatch.domain.plurals import plural_ru
from leakwatch.domain.reviews import labels_from_form, web_review
from leakwatch.settings import Settings
from leakwatch.web.auth import COOKIE, cookie_value, reviewer_from
from schemas.conversation import Labels
from schemas.events import RefusalReview
from schemas.labels import Kind, Leak, Reason

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
HTMX = HERE / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"


class ReviewPublisher(Protocol):
    def publish(self, review: RefusalReview) -> None:
        """Produce to `refusals.reviewed` and return once the broker has it (acks=all); raise if not."""


class BadRequest(ValueError):
    pass


class Filters(BaseModel):
    """What the filter bar asks for. A bare date means its whole day (`to` inclusive)."""

    time_from: datetime
    time_to: datetime
    day_from: str
    day_to: str
    pipeline: str | None
    manager: str | None
    metric: str

    @classmethod
    def of(cls, q, settings: Settings, now: datetime) -> "Filters":
        tz = settings.tz
        today = now.astimezone(tz).date().isoformat()
        raw_from, raw_to = (q.get("from") or "").strip(), (q.get("to") or "").strip()
        try:
            start = parse_instant(raw_from or today, tz)
            end = parse_instant(raw_to or raw_from or today, tz)
        except ValueError as exc:
            raise BadRequest(f"bad period: {exc}") from None
        if len(raw_to or raw_from or today) == 10:  # a date: through the end of that day
            end = end + timedelta(days=1) - timedelta(seconds=1)
        if end <= start:
            raise BadRequest("'to' must be after 'from'")
        metric = q.get("metric") or "sum"
        if metric not in ("sum", "count"):
            raise BadRequest("metric is 'sum' or 'count'")
        return cls(time_from=start, time_to=end, day_from=start.astimezone(tz).date().isoformat(),
                   day_to=end.astimezone(tz).date().isoformat(), pipeline=q.get("pipeline") or None,
                   manager=q.get("manager") or None, metric=metric)

    @property
    def where(self) -> dict:
        return {"pipeline": self.pipeline, "manager": self.manager}


class ReviewRequest(BaseModel):
    """POST /api/reviews: confirm the verdict as it stands, or correct it."""

    deal_id: str
    action: str  # "confirm" | "correct"
    version: int | None = None
    target: bool = True
    reason: Reason | None = None
    kind: Kind | None = None
    leak: Leak | None = None
    hot: bool = False
    comment: str | None = None


def cases_word(language: str) -> Callable[[int], str]:
    """The word after a count of cases: «1 случай», «22 случая», «47 случаев»; "1 case"."""
    if language == "ru":
        return lambda n: plural_ru(n, "случай", "случая", "случаев")
    return lambda n: "case" if n == 1 else "cases"


def create_app(store: Queryable, review_publisher: ReviewPublisher | None, settings: Settings, *,
               reads_open: bool = True, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
               ) -> FastAPI:
    """The board on `store`. `review_publisher=None` (or no LEAKWATCH_WEB_TOKEN) shows the
    queue without its buttons. `reads_open=False` asks for the token on every page too:
    pass `is_loopback(host)` of the address the hosting process listens on."""
    token = settings.web_token.get_secret_value() if settings.web_token else None
    reviews_on = bool(token) and review_publisher is not None
    t = translator(settings.label_language)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(t=t, rub=format_rub, settings=settings, Reason=Reason, Kind=Kind, Leak=Leak,
                                 cases_word=cases_word(settings.label_language))
    templates.env.filters["local"] = lambda ts: (  # the store's times are UTC, naive or not
        ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)).astimezone(settings.tz).strftime("%d.%m %H:%M")

    app = FastAPI(title="leakwatch board", docs_url=None, redoc_url=None, openapi_url=None)
    static = HERE / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/static-vendor/htmx.min.js")
    async def htmx() -> Response:
        if not HTMX.is_file():  # installed by `make install` (npm ci in leakwatch/web)
            return Response("htmx is not installed: run `make install`", status_code=500)
        return Response(HTMX.read_bytes(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    def who(request: Request) -> str | None:
        return reviewer_from({k.lower(): v for k, v in request.headers.items()}, dict(request.cookies), token)

    def may_read(request: Request) -> bool:
        return reads_open or who(request) is not None

    def base(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    def page(request: Request, name: str, context: dict, status: int = 200, headers: dict | None = None):
        ctx = {"request": request, "base": base(request), "reviewer": who(request), "reviews_on": reviews_on,
               **context}
        return templates.TemplateResponse(request, name, ctx, status_code=status, headers=headers)

    async def run(fn, *args, **kw):
        return await asyncio.to_thread(fn, *args, **kw)  # ClickHouse calls block

    # ---- reads -------------------------------------------------------------------------
    def filter_options(f: Filters) -> dict:
        def options(name: str, **variables) -> list[str]:
            sql = expand(VARIABLES[name], time_from=f.time_from, time_to=f.time_to,
                         variables={"pipeline": ALL, "manager": ALL, **variables})
            return [next(iter(r.values())) for r in store.query(sql)]
        return {"filter_pipelines": options("pipeline"),
                "filter_managers": options("manager", pipeline=[f.pipeline] if f.pipeline else ALL)}

    def cards_context(f: Filters) -> dict:
        cards = read_cards(store, f.time_from, f.time_to, baseline_days=settings.baseline_days, **f.where)
        return {"cards": cards, "managers": read_managers(store, f.time_from, f.time_to, **f.where),
                "by_reason": {r.reason: r for r in cards.card1.by_reason}, "f": f,
                "now": clock().astimezone(settings.tz)}

    def cases(f: Filters, leak: str | None) -> list[dict]:
        if leak:
            return store.query(period_sql("salvageable_cases_of_leak", f.time_from, f.time_to, **f.where,
                                          extra={"leak": leak}))
        return store.query(period_sql("salvageable_cases", f.time_from, f.time_to, **f.where))

    def queue(f: Filters):
        return read_review_queue(store, f.time_from, f.time_to, low_confidence=settings.review_below_confidence,
                                 tz_name=settings.timezone, **f.where)

    def filters(request: Request) -> Filters:
        return Filters.of(request.query_params, settings, clock())

    def guarded(render):
        """Period errors as 400, closed reads as 401 (with the login form for pages)."""
        async def view(request: Request):
            if not may_read(request):
                if request.url.path.startswith("/api/"):
                    return JSONResponse({"error": "this board needs LEAKWATCH_WEB_TOKEN"}, status_code=401)
                return RedirectResponse(f"{base(request)}/login", status_code=303)
            try:
                return await render(request, filters(request))
            except BadRequest as exc:
                if request.url.path.startswith("/api/"):
                    return JSONResponse({"error": str(exc)}, status_code=400)
                return HTMLResponse(f'<p class="error">{exc}</p>', status_code=400)
        return view

    async def board(request: Request, f: Filters):
        ctx, options, pending = await asyncio.gather(run(cards_context, f), run(filter_options, f), run(queue, f))
        return page(request, "board.html", {**ctx, **options, "queue": pending, "cases": await run(cases, f, None),
                                            "leak": None})

    async def cards_fragment(request: Request, f: Filters):
        return page(request, "_cards.html", await run(cards_context, f))

    async def cases_fragment(request: Request, f: Filters):
        leak = request.query_params.get("leak") or None
        return page(request, "_cases.html", {"cases": await run(cases, f, leak), "leak": leak, "f": f})

    async def queue_fragment(request: Request, f: Filters):
        return page(request, "_queue.html", {"queue": await run(queue, f), "f": f})

    async def api_cards(request: Request, f: Filters):
        return JSONResponse((await run(read_cards, store, f.time_from, f.time_to,
                                       baseline_days=settings.baseline_days, **f.where)).model_dump(mode="json"))

    async def api_managers(request: Request, f: Filters):
        rows = await run(read_managers, store, f.time_from, f.time_to, **f.where)
        return JSONResponse([r.model_dump(mode="json") for r in rows])

    async def api_queue(request: Request, f: Filters):
        return JSONResponse([r.model_dump(mode="json") for r in await run(queue, f)])

    async def api_cases(request: Request, f: Filters):
        rows = await run(cases, f, request.query_params.get("leak") or None)
        return JSONResponse([{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()}
                             for r in rows])

    for path, render in (("/", board), ("/fragments/cards", cards_fragment), ("/fragments/cases", cases_fragment),
                         ("/fragments/queue", queue_fragment), ("/api/cards", api_cards),
                         ("/api/managers", api_managers), ("/api/review-queue", api_queue),
                         ("/api/cases", api_cases)):
        app.add_api_route(path, guarded(render), methods=["GET"], include_in_schema=False)

    # ---- reviews -----------------------------------------------------------------------
    async def decide(reviewer: str, r: ReviewRequest) -> RefusalReview:
        """The review event; raises BadRequest for what the reviewer must fix, LookupError
        when there is nothing to confirm."""
        pending = await run(read_pending, store, r.deal_id)
        if r.action == "confirm":
            if pending is None:
                raise LookupError(f"deal {r.deal_id} has no provisional verdict to confirm (already reviewed?)")
            try:
                labels = Labels(target=pending.target, reason=pending.reason, kind=pending.kind,
                                leak=pending.leak, hot=pending.hot)
            except ValidationError as exc:
                raise BadRequest(f"the stored verdict is not complete, correct it instead: {exc.errors()[0]['msg']}")
        elif r.action == "correct":
            try:
                labels = labels_from_form(target=r.target, reason=r.reason, kind=r.kind, leak=r.leak, hot=r.hot)
            except (ValidationError, ValueError) as exc:
                msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                raise BadRequest(msg.removeprefix("Value error, ")) from None
        else:
            raise BadRequest("action is 'confirm' or 'correct'")
        version = r.version or (pending.version if pending else 0)
        return web_review(r.deal_id, version, labels, reviewer=reviewer, now=clock(), comment=r.comment)

    async def send(review: RefusalReview) -> None:
        await run(review_publisher.publish, review)
        log.info("review of deal %s by %s sent (%s)", review.deal_id, review.reviewer, review.event_id)

    @app.post("/reviews/{deal_id}", include_in_schema=False)
    async def review_form(deal_id: str, request: Request):
        reviewer = who(request)
        form = await request.form()
        ctx = {"deal_id": deal_id}
        if not reviews_on:
            return page(request, "_review_result.html", {**ctx, "error": t("reviews_disabled")}, status=403)
        if reviewer is None:
            return page(request, "_review_result.html", {**ctx, "error": t("review_needs_login")}, status=401)
        try:
            r = ReviewRequest(deal_id=deal_id, action=form.get("action", ""),
                              version=int(form["version"]) if form.get("version") else None,
                              target=form.get("target") == "on" or form.get("action") == "confirm",
                              reason=form.get("reason") or None, kind=form.get("kind") or None,
                              leak=form.get("leak") or None, hot=form.get("hot") == "on",
                              comment=form.get("comment") or None)
            review = await decide(reviewer, r)
        except (BadRequest, ValidationError) as exc:
            return page(request, "_review_result.html", {**ctx, "error": str(exc)}, status=422)
        except LookupError as exc:
            return page(request, "_review_result.html", {**ctx, "error": str(exc)}, status=409)
        try:
            await send(review)
        except Exception as exc:  # the broker did not take it: say so, the reviewer can retry
            log.exception("review of deal %s not sent", deal_id)
            return page(request, "_review_result.html", {**ctx, "error": f"{t('review_not_sent')}: {exc}"},
                        status=503)
        return page(request, "_review_result.html", {**ctx, "review": review},
                    headers={"HX-Trigger": "review-sent"})

    @app.post("/api/reviews", include_in_schema=False)
    async def review_api(request: Request):
        reviewer = who(request)
        if not reviews_on:
            return JSONResponse({"error": "reviews are off: LEAKWATCH_WEB_TOKEN is not set"}, status_code=403)
        if reviewer is None:
            return JSONResponse({"error": "a review needs the token (Bearer or basic auth)"}, status_code=401)
        try:
            body = ReviewRequest.model_validate_json(await request.body())
            review = await decide(reviewer, body)
        except ValidationError as exc:
            return JSONResponse({"error": exc.errors()[0]["msg"]}, status_code=422)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        except LookupError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        try:
            await send(review)
        except Exception as exc:
            log.exception("review of deal %s not sent", body.deal_id)
            return JSONResponse({"error": f"not sent, try again: {exc}"}, status_code=503)
        return JSONResponse({"sent": review.model_dump(mode="json")}, status_code=202)

    # ---- login -------------------------------------------------------------------------
    @app.get("/login", include_in_schema=False)
    async def login_form(request: Request):
        return page(request, "login.html", {"error": None})

    @app.post("/login", include_in_schema=False)
    async def login(request: Request):
        form = await request.form()
        reviewer, given = (form.get("reviewer") or "").strip(), form.get("token") or ""
        if not token or not reviewer or not hmac.compare_digest(given.encode(), token.encode()):
            return page(request, "login.html", {"error": t("bad_token") if token else t("reviews_disabled")},
                        status=401)
        response = RedirectResponse(f"{base(request)}/", status_code=303)
        response.set_cookie(COOKIE, cookie_value(reviewer, token), httponly=True, samesite="strict",
                            max_age=30 * 86400)
        return response

    @app.get("/health", include_in_schema=False)
    async def health():
        return {"status": "ok", "reviews": reviews_on}

    return app

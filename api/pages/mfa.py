"""The pages' second factor (`api.second_factor`'s rules): after the password a code (or a
recovery code); enrolment with the QR code for a role that requires it, and for anyone
signed in at `/account/mfa`."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api import second_factor as flow
from api.accounts import LoginRefused
from api.pages import once
from api.pages.render import back, page
from api.pages.session import CODES_PAGE, HOME, PageAny, local_path, sign_in
from api.ratelimit import client_ip
from core.errors import DomainError
from models.mfa import ChallengePurpose, MfaChallengeIssued, MfaEnrolment, MfaVerify
from models.users import User
from processing.accounts import second_factor
from processing.accounts.second_factor import MfaRefused

router = APIRouter(include_in_schema=False)
Code = Annotated[str, Form(max_length=40)]
NO_STORE = {"Cache-Control": "no-store"}
SETUP_PAGE = "/account/mfa/setup"


def safe_next(target: str | None, user: User) -> str:
    """`target` when it is one of our own paths, else the user's home page."""
    return local_path(target) or HOME.get(user.role, "/")


async def second_step(
    request: Request, user: User, step: MfaChallengeIssued, next_path: str
) -> Response:
    """The page after a right password: ask for the code, or enrol first."""
    if step.mfa_required:
        return page(request, "login_code.html", None, challenge=step.challenge, next=next_path)
    return await _enrolment(request, user, step.challenge, next_path)


async def _begin(request: Request, user: User) -> MfaEnrolment:
    ctx = request.app.state.ctx

    def begin() -> MfaEnrolment:
        with Session(ctx.engine, expire_on_commit=False) as session:
            return second_factor.begin_enrolment(session, ctx.secrets, user)

    return await run_in_threadpool(begin)


def _enrolment_page(
    request: Request,
    user: User | None,
    enrolment: MfaEnrolment,
    challenge: str | None,
    next_path: str,
    error: str = "",
) -> HTMLResponse:
    answer = page(
        request, "mfa_enrol.html", user, enrolment=enrolment, challenge=challenge or "",
        next=next_path, error=error or None, status_code=401 if error else 200,
    )  # fmt: skip
    answer.headers.update(NO_STORE)
    return answer


async def _enrolment(
    request: Request, user: User, challenge: str | None, next_path: str, error: str = ""
) -> HTMLResponse:
    enrolment = await _begin(request, user)
    shown_to = None if challenge else user
    return _enrolment_page(request, shown_to, enrolment, challenge, next_path, error)


@router.post("/login/code")
async def login_code(
    request: Request,
    challenge: Annotated[str, Form(max_length=128)],
    code: Code = "",
    recovery_code: Code = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The code (or a recovery code) after the password: the session cookie."""
    ctx = request.app.state.ctx
    body = MfaVerify.model_construct(
        challenge=challenge, code=code.strip() or None, recovery_code=recovery_code.strip() or None
    )
    try:
        user = await flow.verify(
            ctx.engine, request.app.state.rate_limits, ctx.secrets, body=body, ip=client_ip(request)
        )
    except MfaRefused as exc:
        if exc.code == "mfa_challenge_invalid":
            return page(request, "login.html", None, status_code=401, error=exc.message, next=next)
        return page(
            request, "login_code.html", None, status_code=401, error=exc.message,
            challenge=challenge, next=next,
        )  # fmt: skip
    except LoginRefused as exc:
        answer = page(request, "login.html", None, status_code=429, error=exc.message, next=next)
        answer.headers["Retry-After"] = str(exc.retry_after_s)
        return answer
    response = RedirectResponse(safe_next(next, user), status_code=303)
    sign_in(response, ctx.settings, user)
    return response


def _confirm(request: Request, user: User, code: str, challenge: str) -> list[str]:
    ctx = request.app.state.ctx
    with Session(ctx.engine, expire_on_commit=False) as session:
        return second_factor.confirm_with(session, ctx.secrets, user.id, code, challenge or None)


@router.post("/login/enrol")
async def login_enrol(
    request: Request,
    challenge: Annotated[str, Form(max_length=128)],
    code: Code,
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The first code of an enrolment the login asked for: recovery codes, then signed in."""
    ctx = request.app.state.ctx
    try:
        user = await run_in_threadpool(
            flow.challenged_user, ctx.engine, challenge, ChallengePurpose.enrol
        )
    except MfaRefused as exc:
        return page(request, "login.html", None, status_code=401, error=exc.message, next=next)
    return await _confirmed(request, user, code, challenge, next)


async def _confirmed(
    request: Request, user: User, code: str, challenge: str, next_path: str
) -> Response:
    try:
        codes = await run_in_threadpool(_confirm, request, user, code.strip(), challenge)
    except (MfaRefused, DomainError) as exc:
        return await _enrolment(request, user, challenge or None, next_path, error=exc.message)
    # Post/Redirect/Get: the codes are kept for one showing on the next page.
    target = safe_next(next_path, user)
    answer = RedirectResponse(f"{CODES_PAGE}?next={quote(target, safe='')}", status_code=303)
    await once.keep(request, answer, user.id, CODES_PAGE, {"codes": codes})
    if challenge:
        sign_in(answer, request.app.state.ctx.settings, user)
    return answer


@router.get(CODES_PAGE, response_class=HTMLResponse)
async def recovery_codes(request: Request, user: PageAny, next: str = "") -> HTMLResponse:
    """The recovery codes just made, shown this once (a reload no longer shows them)."""
    kept = await once.take(request, user.id, CODES_PAGE)
    answer = page(
        request,
        "mfa_codes.html",
        user,
        codes=kept["codes"] if kept else None,
        next=safe_next(next, user),
    )
    answer.headers.update(NO_STORE)
    if kept is not None:
        once.forget(answer)
    return answer


@router.get("/account/mfa", response_class=HTMLResponse)
async def account_mfa(request: Request, user: PageAny) -> HTMLResponse:
    """My second factor: on or off, recovery codes left; set it up."""
    ctx = request.app.state.ctx

    def read() -> object:
        with Session(ctx.engine) as session:
            return second_factor.status(session, user)

    return page(request, "mfa_account.html", user, status=await run_in_threadpool(read))


@router.post("/account/mfa/enrol")
async def account_enrol(request: Request, user: PageAny) -> Response:
    """A new secret with its QR code, shown once on the next page (a reload makes no other)."""
    try:
        enrolment = await _begin(request, user)
    except DomainError as exc:
        return back("/account/mfa", error=exc.message)
    answer = RedirectResponse(SETUP_PAGE, status_code=303)
    await once.keep(request, answer, user.id, SETUP_PAGE, {"enrolment": enrolment.model_dump()})
    return answer


@router.get(SETUP_PAGE, response_class=HTMLResponse)
async def account_setup(request: Request, user: PageAny) -> Response:
    """The secret just made, with its QR code and the form for its first code (once)."""
    kept = await once.take(request, user.id, SETUP_PAGE)
    if kept is None:
        answer: Response = back("/account/mfa", notice="Start the set-up again for a new code")
    else:
        enrolment = MfaEnrolment.model_validate(kept["enrolment"])
        answer = _enrolment_page(request, user, enrolment, None, "/account/mfa")
        once.forget(answer)
    return answer


@router.post("/account/mfa/confirm")
async def account_confirm(request: Request, user: PageAny, code: Code) -> Response:
    """The first code turns the second factor on; the recovery codes are shown once."""
    return await _confirmed(request, user, code, "", "/account/mfa")

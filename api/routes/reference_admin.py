"""Reference data (admin): currencies, banks, payment methods and which bank offers which
method. Writes are audited like every admin change; once committed, every API process's next
read of `/api/reference/...` sees them (`processing.platform.reference`).

The three kinds share one set of routes (list, create, change, delete), built per kind
below; the module does without postponed annotations so each route's body model is the
kind's own class, which FastAPI reads (validation) and the OpenAPI states."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session, SQLModel

from api.deps import ContextDep, CurrentStaff, ReferenceManager, SessionDep
from models.amounts import CURRENCY_PATTERN
from models.reference import (
    CODE_PATTERN,
    BankAdmin,
    CurrencyAdmin,
    CurrencyCreate,
    CurrencyUpdate,
    NamedAdmin,
    NamedCreate,
    NamedUpdate,
)
from processing.platform import reference_admin as service
from processing.platform.reference import reference_changed
from processing.platform.reference_rules import BANK, CURRENCY, PAYMENT_METHOD, Kind

router = APIRouter(prefix="/reference")
Code = Annotated[str, Path(pattern=CODE_PATTERN)]
T = TypeVar("T")


async def _changed(ctx: ContextDep, work: Callable[[], T]) -> T:
    """Run a write (in a thread: the database is blocking), then tell every process."""
    done = await run_in_threadpool(work)
    await reference_changed(ctx)
    return done


def _as_is(_: Session, row: Any) -> Any:
    return row


def _with_offers(session: Session, row: Any) -> BankAdmin:
    return service.bank(session, row.code)


@dataclass(frozen=True)
class Resource:
    kind: Kind
    path: str
    pattern: str
    create: type[SQLModel]
    update: type[SQLModel]
    public: type[SQLModel]
    # The row as the API shows it (a bank with the methods it offers).
    show: Callable[[Session, Any], Any]
    # What a disabled row still allows and refuses, for the OpenAPI.
    disabled: str


def _routes(r: Resource) -> None:
    what = r.kind.word.replace("_", " ")
    CodeIn = Annotated[str, Path(pattern=r.pattern)]

    listed = list[r.public]  # type: ignore[name-defined]

    @router.get(
        f"/{r.path}",
        response_model=listed,
        summary=f"List every {what}",
        name=f"list_{r.kind.word}",
    )
    def listing(session: SessionDep, _: CurrentStaff) -> list[Any]:
        """Every row, disabled ones too, by code."""
        if r.kind is BANK:  # the offers read once for all banks
            return service.banks(session)
        return service.listing(session, r.kind)

    @router.post(
        f"/{r.path}",
        response_model=r.public,
        status_code=201,
        summary=f"Add a {what}",
        name=f"create_{r.kind.word}",
    )
    async def create(
        body: r.create,  # type: ignore[name-defined]
        session: SessionDep,
        ctx: ContextDep,
        _: ReferenceManager,
    ) -> Any:
        """A new code (never changed later); a code taken is 409 `<kind>_exists`."""
        return await _changed(ctx, lambda: r.show(session, service.create(session, r.kind, body)))

    @router.patch(
        f"/{r.path}/{{code}}",
        response_model=r.public,
        summary=f"Change a {what}",
        name=f"update_{r.kind.word}",
        description=r.disabled,
    )
    async def update(
        code: CodeIn,
        body: r.update,  # type: ignore[name-defined]
        session: SessionDep,
        ctx: ContextDep,
        _: ReferenceManager,
    ) -> Any:
        return await _changed(
            ctx, lambda: r.show(session, service.update(session, r.kind, code, body))
        )

    @router.delete(
        f"/{r.path}/{{code}}",
        status_code=204,
        summary=f"Delete a {what}",
        name=f"delete_{r.kind.word}",
    )
    async def delete(
        code: CodeIn, session: SessionDep, ctx: ContextDep, _: ReferenceManager
    ) -> Response:
        """Delete a code in use nowhere (a bank's or method's offers go with it); in use
        anywhere: 409 `<kind>_in_use` with `used_by`, nothing changed (disable it instead)."""
        await _changed(ctx, lambda: service.remove(session, r.kind, code))
        return Response(status_code=204)


DISABLED = "Disabled: refused for new {} (`{}_disabled`); existing ones keep working."
for resource in (
    Resource(
        CURRENCY,
        "currencies",
        CURRENCY_PATTERN,
        CurrencyCreate,
        CurrencyUpdate,
        CurrencyAdmin,
        _as_is,
        DISABLED.format("stores, requisites and orders", "currency")
        + " Minor units change only while the currency is in use nowhere (`currency_in_use`).",
    ),
    Resource(
        BANK,
        "banks",
        CODE_PATTERN,
        NamedCreate,
        NamedUpdate,
        BankAdmin,
        _with_offers,
        DISABLED.format("requisites and orders", "bank"),
    ),
    Resource(
        PAYMENT_METHOD,
        "payment-methods",
        CODE_PATTERN,
        NamedCreate,
        NamedUpdate,
        NamedAdmin,
        _as_is,
        DISABLED.format("requisites and orders", "payment_method"),
    ),
):
    _routes(resource)


@router.put("/banks/{code}/payment-methods/{method}", response_model=BankAdmin)
async def offer_method(
    code: Code, method: Code, session: SessionDep, ctx: ContextDep, _: ReferenceManager
) -> BankAdmin:
    """The bank offers this payment method: new requisites may pair them."""
    await _changed(ctx, lambda: service.offer(session, code, method))
    return await run_in_threadpool(service.bank, session, code)


@router.delete("/banks/{code}/payment-methods/{method}", status_code=204)
async def withdraw_method(
    code: Code, method: Code, session: SessionDep, ctx: ContextDep, _: ReferenceManager
) -> Response:
    """The bank no longer offers this method to new requisites; existing ones keep working."""
    await _changed(ctx, lambda: service.withdraw_offer(session, code, method))
    return Response(status_code=204)

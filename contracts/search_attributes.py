"""Custom search attributes ops filter on in the Temporal UI (registered at server start)."""

from temporalio.common import SearchAttributeKey

ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
# payin | payout: both kinds share the other order attributes.
ORDER_KIND = SearchAttributeKey.for_keyword("OrderKind")
MERCHANT_ID = SearchAttributeKey.for_keyword("MerchantId")
STORE_ID = SearchAttributeKey.for_keyword("StoreId")
TRADER_ID = SearchAttributeKey.for_keyword("TraderId")
BANK_CODE = SearchAttributeKey.for_keyword("BankCode")
CONNECT_USER_ID = SearchAttributeKey.for_keyword("ConnectUserId")
# deposit | withdrawal, and where it stands (requested, confirmed, approved, paid, …); the
# owner is in StoreId / MerchantId or TraderId.
FUNDS_KIND = SearchAttributeKey.for_keyword("FundsKind")
FUNDS_STATUS = SearchAttributeKey.for_keyword("FundsStatus")

ALL = (
    ORDER_STATUS,
    ORDER_KIND,
    MERCHANT_ID,
    STORE_ID,
    TRADER_ID,
    BANK_CODE,
    CONNECT_USER_ID,
    FUNDS_KIND,
    FUNDS_STATUS,
)


def dev_server_flags() -> list[str]:
    """`--search-attribute Name=Keyword` values for `temporal server start-dev`."""
    return [f"{key.name}=Keyword" for key in ALL]

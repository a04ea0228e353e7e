"""SQLModel tables and API schemas. Importing this package registers every table."""

from models.analytics import AnalyticsSnapshot, CategoryRuleRow
from models.audit import AuditEntry
from models.banking import BalanceSnapshot, BankAccount, BankTransaction, ProductAgreement, SyncRun
from models.base import metadata
from models.connect import BankConnection, BankToken, Consent, ConsentEvent, RawApiLog
from models.dashboard import UserDashboard
from models.fraud import BlockListEntry, FraudRule
from models.funds import Deposit, Withdrawal
from models.ledger import Entry, Hold, LedgerAccount, Posting
from models.merchants import Merchant, Store
from models.mfa import MfaChallenge, RecoveryCode, SecondFactor
from models.notifications import (
    Notification,
    NotificationDelivery,
    NotificationSettings,
    TelegramLinkCode,
)
from models.orders import CallbackAttempt, CallbackDelivery, Order, OrderEvent, Receipt
from models.rates import ExchangeRate
from models.reference import BankPaymentMethod
from models.statement import StatementCredit
from models.teams import Team
from models.traders import Bank, Currency, PaymentMethod, Requisite, Trader
from models.turnover import TurnoverStoreDay, TurnoverTraderDay
from models.users import SandboxIdentity, User
from models.workers import WorkerHeartbeat

__all__ = [
    "AnalyticsSnapshot",
    "BalanceSnapshot",
    "BankAccount",
    "BankConnection",
    "BankToken",
    "BankTransaction",
    "Consent",
    "ConsentEvent",
    "Deposit",
    "Merchant",
    "ProductAgreement",
    "RawApiLog",
    "Store",
    "SyncRun",
    "User",
    "Withdrawal",
    "metadata",
]
__all__ += ["Bank", "Currency", "PaymentMethod", "Requisite", "Trader"]
__all__ += ["CallbackAttempt", "CallbackDelivery", "Order", "OrderEvent", "Receipt"]
__all__ += ["Entry", "Hold", "LedgerAccount", "Posting"]
__all__ += ["AuditEntry", "CategoryRuleRow", "SandboxIdentity"]
__all__ += ["BlockListEntry", "FraudRule"]
__all__ += ["StatementCredit"]
__all__ += ["ExchangeRate"]
__all__ += ["BankPaymentMethod"]
__all__ += ["UserDashboard"]
__all__ += ["WorkerHeartbeat"]
__all__ += ["Team"]
__all__ += ["TurnoverStoreDay", "TurnoverTraderDay"]
__all__ += ["Notification", "NotificationDelivery", "NotificationSettings", "TelegramLinkCode"]
__all__ += ["MfaChallenge", "RecoveryCode", "SecondFactor"]

"""All tables. Importing this package registers every model on `Base.metadata`."""

from db.base import Base
from db.models.backtest import BacktestResult
from db.models.bridges import (
    PaperBridgeProtocolState,
    PaperBridgeTransfer,
    PaperChainTransfer,
    PaperFaultHit,
    PaperWallet,
    PaperWalletEntry,
)
from db.models.dashboard import DashboardSession, DashboardUser
from db.models.deployment import Deployment
from db.models.events import Event
from db.models.funding import FundingPayment, FundingRate
from db.models.halts import Halt
from db.models.ops import AlertDelivery, BreakerMark, VenueHealth
from db.models.orders import Order
from db.models.paper import (
    PaperAccount,
    PaperFill,
    PaperFundingSettlement,
    PaperLedgerEntry,
    PaperMarketTick,
    PaperOrder,
    PaperPosition,
    PaperTransfer,
    PaperVenue,
)
from db.models.positions import StrategyPosition
from db.models.runs import PendingPhase, StrategyControl, TaskRun
from db.models.state import StrategyState
from db.models.transfers import FundTransfer

__all__ = [
    "AlertDelivery",
    "BacktestResult",
    "Base",
    "BreakerMark",
    "DashboardSession",
    "DashboardUser",
    "Deployment",
    "Event",
    "FundTransfer",
    "FundingPayment",
    "FundingRate",
    "Halt",
    "Order",
    "PaperAccount",
    "PaperBridgeProtocolState",
    "PaperBridgeTransfer",
    "PaperChainTransfer",
    "PaperFaultHit",
    "PaperFill",
    "PaperFundingSettlement",
    "PaperLedgerEntry",
    "PaperMarketTick",
    "PaperOrder",
    "PaperPosition",
    "PaperTransfer",
    "PaperVenue",
    "PaperWallet",
    "PaperWalletEntry",
    "PendingPhase",
    "StrategyControl",
    "StrategyPosition",
    "StrategyState",
    "TaskRun",
    "VenueHealth",
]

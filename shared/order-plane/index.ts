/** Order plane: pre-trade risk, paper execution, accounting and transaction-cost learning. */
export { OrderPlane, OrderPlaneStateSchema, type OrderPlaneOptions, type OrderPlaneState, type OrderPlaneCounts, type IntentOutcome } from './order-plane.ts';
export { RiskLimitsSchema, riskLimits, riskLimitsFromEnv, type RiskLimits, type RiskLimitsInput } from './risk-limits.ts';
export { RiskEngine, PAPER_VENUE, isReducing, type RiskView, type RiskCheckContext, type PostTrade, type RiskEngineState, type RiskKillSwitchState } from './risk-engine.ts';
export { applyOrderEvent, newOrder, openOrder, canTransition, isTerminal, remainingQty, type OrderEvent } from './order-state.ts';
export { PaperBroker, PaperBrokerOptionsSchema, FillModel, type PaperBrokerOptions, type BrokerListener, type WorkingOrderState, type PaperBrokerState } from './paper-broker.ts';
export { Portfolio, type PortfolioState } from './portfolio.ts';
export { OnlineCostModel, CostModelStateSchema, implementationShortfallBps, type CostCoefficients, type CostModelOptions, type CostModelState, type SymbolCostSummary } from './cost-model.ts';

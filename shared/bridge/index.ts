export { NatsLambdaBridge, lambdaInvoker, toBridgeEvent, itemId, type BridgeOptions, type BridgeEvent, type BridgeResponse, type BatchResult, type Invoker } from './bridge.ts';

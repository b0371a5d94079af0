import { AlgoplanesError, TransientError, errorMessage } from '../util/errors.ts';

/** DynamoDB error names that mean "try again later", not "your request is wrong". */
const TRANSIENT_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TransactionInProgressException',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
]);

/** Socket-level failures: the endpoint was unreachable, so the request may not even have arrived. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

interface AwsErrorShape {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Maps a DynamoDB failure to the platform's errors. */
export function storeError(operation: string, err: unknown): AlgoplanesError {
  return awsError('STORE', operation, err);
}

/** Maps an AWS SDK failure to the platform's errors: throttling, 5xx and network -> TransientError. */
export function awsError(service: string, operation: string, err: unknown): AlgoplanesError {
  if (err instanceof AlgoplanesError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as AwsErrorShape;
  const status = e.$metadata?.httpStatusCode ?? 0;
  const transient =
    TRANSIENT_NAMES.has(e.name ?? '') || status >= 500 || NETWORK_CODES.has(e.code ?? '') || e.$retryable !== undefined;
  const message = `${operation}: ${e.name ?? 'Error'}: ${errorMessage(err)}`;
  return transient ? new TransientError(`${service}_UNAVAILABLE`, message, err) : new AlgoplanesError(`${service}_FAILED`, message, { cause: err });
}

export function isConditionalCheckFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as AwsErrorShape).name === 'ConditionalCheckFailedException';
}

/** Per-item cancellation codes of a cancelled transaction (None, ConditionalCheckFailed, TransactionConflict, ...). */
export function cancellationCodes(err: unknown): string[] | undefined {
  if (typeof err !== 'object' || err === null || (err as AwsErrorShape).name !== 'TransactionCanceledException') return undefined;
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code ?? 'None');
}

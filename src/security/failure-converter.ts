import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Loaded by path (DataConverter.failureConverterPath) in clients, workers and the workflow bundle: failure
 * messages and stack traces go into the failure's encoded attributes, which the payload codec encrypts, so
 * an encrypted history holds no plain-text error either. The Web UI and `temporal` CLI show them through the
 * codec server like any payload.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

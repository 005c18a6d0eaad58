import type { DataConverter } from '@temporalio/common';
import { codecFromEnv } from '../security/codec';

/** The failure converter that encodes messages and stack traces (src/security/failure-converter.ts). */
export const ENCODING_FAILURE_CONVERTER_PATH = require.resolve('../security/failure-converter');

/**
 * The one data converter every Temporal client and worker of ours uses: with PAYLOAD_ENCRYPTION_KEYS set,
 * payloads are encrypted with AES-256-GCM (src/security/codec.ts) and failures are encoded too (their
 * message and stack trace become an encrypted payload); without it, plain JSON and plain failures. Workers
 * and clients must agree, so nothing builds its own; a bundle built with bundleWorkflowCode takes
 * `failureConverterPath` from here as well.
 */
export function temporalDataConverter(env: NodeJS.ProcessEnv = process.env): DataConverter {
  const codec = codecFromEnv(env);
  return codec ? { payloadCodecs: [codec], failureConverterPath: ENCODING_FAILURE_CONVERTER_PATH } : {};
}

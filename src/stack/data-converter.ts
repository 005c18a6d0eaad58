import type { DataConverter } from '@temporalio/common';
import { codecFromEnv } from '../security/codec';

/**
 * The one data converter every Temporal client and worker of ours uses: payloads encrypted with AES-256-GCM
 * when PAYLOAD_ENCRYPTION_KEYS is set (see src/security/codec.ts), plain JSON otherwise. Workers and clients
 * must agree, so nothing builds its own.
 */
export function temporalDataConverter(env: NodeJS.ProcessEnv = process.env): DataConverter {
  const codec = codecFromEnv(env);
  return codec ? { payloadCodecs: [codec] } : {};
}

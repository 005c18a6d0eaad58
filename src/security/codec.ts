import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ConfigError } from '../model/errors';

/**
 * Payload encryption for Temporal: AES-256-GCM over the whole serialized payload (metadata included), with
 * the key id in the outer metadata so keys can rotate: the first key encrypts, every listed key decrypts.
 * Keys: PAYLOAD_ENCRYPTION_KEYS="<id>:<base64 32 bytes>[,<id>:<base64>...]" (newest first).
 * The codec server lets the Web UI and `temporal` CLI show decrypted payloads to people who can reach it.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const METADATA_KEY_ID = 'encryption-key-id';
const te = new TextEncoder();
const td = new TextDecoder();

export interface EncryptionKey {
  readonly id: string;
  readonly key: Buffer;
}

export function parseEncryptionKeys(spec: string): EncryptionKey[] {
  const keys = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const sep = entry.indexOf(':');
      if (sep <= 0)
        throw new ConfigError(`PAYLOAD_ENCRYPTION_KEYS: entry ${i + 1} must be "<id>:<base64 key>"`);
      const id = entry.slice(0, sep);
      const key = Buffer.from(entry.slice(sep + 1), 'base64');
      if (key.length !== 32)
        throw new ConfigError(
          `PAYLOAD_ENCRYPTION_KEYS: key "${id}" is ${key.length} bytes; AES-256 needs 32 (openssl rand -base64 32)`,
        );
      return { id, key };
    });
  if (!keys.length) throw new ConfigError('PAYLOAD_ENCRYPTION_KEYS: no key given');
  if (new Set(keys.map((k) => k.id)).size !== keys.length)
    throw new ConfigError('PAYLOAD_ENCRYPTION_KEYS: key ids must be unique');
  return keys;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  constructor(private readonly keys: readonly EncryptionKey[]) {
    if (!keys.length) throw new ConfigError('PAYLOAD_ENCRYPTION_KEYS: at least one key is required');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0]!;
    return payloads.map((p) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: te.encode(ENCRYPTED_ENCODING), [METADATA_KEY_ID]: te.encode(id) },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (!p.metadata || td.decode(p.metadata.encoding ?? new Uint8Array()) !== ENCRYPTED_ENCODING) return p;
      const id = td.decode(p.metadata[METADATA_KEY_ID] ?? new Uint8Array());
      const key = this.byId.get(id);
      if (!key)
        throw new Error(`payload codec: no key "${id}" in PAYLOAD_ENCRYPTION_KEYS (rotated out too early?)`);
      const buf = Buffer.from(p.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      decipher.setAuthTag(buf.subarray(buf.length - 16));
      const plain = Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** The codec from the environment, or undefined when encryption is not configured. */
export function codecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec | undefined {
  return env.PAYLOAD_ENCRYPTION_KEYS
    ? new AesGcmPayloadCodec(parseEncryptionKeys(env.PAYLOAD_ENCRYPTION_KEYS))
    : undefined;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}
const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v ?? new Uint8Array()).toString('base64'),
    ]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/**
 * Temporal's remote codec protocol: POST /encode and /decode with {"payloads":[...]} (base64 fields), CORS
 * for the Web UI origin. Bind it to localhost or put it behind auth: whoever reaches it can decrypt.
 */
export async function startCodecServer(
  codec: PayloadCodec,
  opts: { port?: number; host?: string; allowOrigin?: string } = {},
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const cors = {
      'access-control-allow-origin': opts.allowOrigin ?? 'http://localhost:8233',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'content-type, x-namespace, authorization',
      'access-control-allow-credentials': 'true',
    };
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    if (req.method !== 'POST' || (path !== '/encode' && path !== '/decode'))
      return void res.writeHead(404, cors).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads?: JsonPayload[] };
          const input = (body.payloads ?? []).map(fromJson);
          const out = path === '/encode' ? await codec.encode(input) : await codec.decode(input);
          res
            .writeHead(200, { ...cors, 'content-type': 'application/json' })
            .end(JSON.stringify({ payloads: out.map(toJson) }));
        } catch (e) {
          res
            .writeHead(400, { ...cors, 'content-type': 'application/json' })
            .end(JSON.stringify({ message: (e as Error).message }));
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.address}:${a.port}`,
    server,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

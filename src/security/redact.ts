/**
 * One redaction rule for everything we print: config, errors, logs. Two layers:
 * - credentials inside URLs: the password of `user:password@` (and a bare `token@`), and the values of
 *   query parameters that carry credentials (`password=`, `token=`, `secret=`, `key=`...);
 * - the values of the secrets this process was given (APCA keys, Slack token, encryption keys, the
 *   passwords inside DATABASE_URL / REDIS_URL), wherever they appear in the text, e.g. in a library's
 *   error that quotes a connection parameter.
 */
export const REDACTED = '***';

/** Environment variables whose whole value is a secret. */
export const SECRET_ENV_KEYS = [
  'APCA_API_KEY_ID',
  'APCA_API_SECRET_KEY',
  'SLACK_BOT_TOKEN',
  'POLYGON_API_KEY',
  'UNUSUAL_WHALES_API_KEY',
  'PAYLOAD_ENCRYPTION_KEYS',
] as const;

/** Environment variables holding URLs that may carry credentials. */
export const URL_ENV_KEYS = [
  'DATABASE_URL',
  'REDIS_URL',
  'TEST_DATABASE_URL',
  'APCA_API_BASE_URL',
  'APCA_DATA_BASE_URL',
  'SLACK_API_URL',
] as const;

const SECRET_PARAM =
  /^(password|passwd|pass|pwd|sslpassword|token|access_token|refresh_token|auth|auth_token|secret|client_secret|key|api_key|apikey|api-key|signature|sig)$/i;

/** `scheme://user:password@`: the user name is kept (not a secret), the password replaced. */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#\s]*)@/i;
/** A URL inside arbitrary text; stops at whitespace, quotes and brackets. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>()[\]{}]+/gi;

/** The URL with its password and credential-bearing query values replaced by `***`. */
export function redactUrl(url: string): string {
  let out = url.replace(USERINFO, (_m, scheme: string, info: string) => {
    const colon = info.indexOf(':');
    return colon >= 0 ? `${scheme}${info.slice(0, colon)}:${REDACTED}@` : `${scheme}${info}@`;
  });
  const q = out.indexOf('?');
  if (q >= 0) {
    const hash = out.indexOf('#', q);
    const end = hash >= 0 ? hash : out.length;
    const query = out
      .slice(q + 1, end)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq < 0) return pair;
        let name = pair.slice(0, eq);
        try {
          name = decodeURIComponent(name);
        } catch {
          /* keep the raw name */
        }
        return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
      })
      .join('&');
    out = `${out.slice(0, q + 1)}${query}${out.slice(end)}`;
  }
  return out;
}

/**
 * The secret values of an environment: every SECRET_ENV_KEYS value (and each key of PAYLOAD_ENCRYPTION_KEYS
 * alone) and the password/token parts of URL_ENV_KEYS. Short values (< 6 characters) are left out: replacing
 * them everywhere would mangle ordinary text, and the URL rule still hides them inside URLs.
 */
export function secretValues(env: NodeJS.ProcessEnv = process.env): string[] {
  const out = new Set<string>();
  const add = (v: string | undefined) => {
    if (v && v.length >= 6) out.add(v);
  };
  for (const k of SECRET_ENV_KEYS) {
    const v = env[k];
    add(v);
    if (k === 'PAYLOAD_ENCRYPTION_KEYS' && v)
      for (const entry of v.split(',')) add(entry.slice(entry.indexOf(':') + 1).trim());
  }
  for (const k of URL_ENV_KEYS) {
    const v = env[k];
    if (!v) continue;
    try {
      const u = new URL(v);
      add(decodeURIComponent(u.password));
      add(u.password);
      for (const [name, value] of u.searchParams) if (SECRET_PARAM.test(name)) add(value);
    } catch {
      /* not a URL: config validation reports it */
    }
  }
  // Longest first, so a secret that contains another is replaced whole.
  return [...out].sort((a, b) => b.length - a.length);
}

/** Text with every URL redacted and every known secret value replaced. */
export function redactText(text: string, secrets: readonly string[] = secretValues()): string {
  let out = text.includes('://') ? text.replace(URL_IN_TEXT, (u) => redactUrl(u)) : text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** An error's message (and, when asked, its stack and causes) redacted, for printing. */
export function redactError(
  err: unknown,
  opts: { stack?: boolean; secrets?: readonly string[] } = {},
): string {
  const secrets = opts.secrets ?? secretValues();
  if (!(err instanceof Error)) return redactText(String(err), secrets);
  const text = opts.stack && err.stack ? err.stack : err.message;
  return redactText(text, secrets);
}

type Write = typeof process.stdout.write;

/**
 * Routes everything this process writes to stdout/stderr (console, the Temporal SDK's logger, third-party
 * warnings) through redactText, so a worker's or the CLI's logs never carry a credential. Returns a
 * function that restores the original streams. Idempotent per stream.
 */
export function redactProcessOutput(env: NodeJS.ProcessEnv = process.env): () => void {
  const secrets = secretValues(env);
  const restore: Array<() => void> = [];
  for (const stream of [process.stdout, process.stderr]) {
    const s = stream as NodeJS.WriteStream & { __redacting?: boolean };
    if (s.__redacting) continue;
    const original = s.write.bind(s) as Write;
    s.write = ((chunk: unknown, ...rest: unknown[]) =>
      (original as (...a: unknown[]) => boolean)(
        typeof chunk === 'string' ? redactText(chunk, secrets) : chunk,
        ...rest,
      )) as Write;
    s.__redacting = true;
    restore.push(() => {
      s.write = original;
      s.__redacting = false;
    });
  }
  return () => restore.forEach((r) => r());
}

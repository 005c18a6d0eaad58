/**
 * Extracts the metric names a PromQL expression reads. Not a full parser: it removes what cannot be a metric
 * name (strings, label matchers, range/offset brackets, grouping clauses, Grafana variables, numbers,
 * function calls, keywords) and returns the identifiers left. Good enough to check dashboards and alert rules
 * against the metrics the code exports.
 */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

export function metricNamesInPromQL(expr: string): string[] {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // string literals
    .replace(/\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/g, ' ') // Grafana variables
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // grouping label lists
  s = s.replace(/\b(\d+(ms|s|m|h|d|w|y))+\b/g, ' '); // durations (offset 5m, 1h30m)
  s = s.replace(/\b\d+(\.\d+)?([eE][+-]?\d+)?\b/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call) continue; // a function (rate, sum, histogram_quantile...)
    if (KEYWORDS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return [...names].sort();
}

/** A series name's metric family: histogram/summary series map back to the metric that defines them. */
export function metricFamily(name: string, known: ReadonlySet<string>): string | undefined {
  if (known.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix) && known.has(name.slice(0, -suffix.length)))
      return name.slice(0, -suffix.length);
  }
  return undefined;
}

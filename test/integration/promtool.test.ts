import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';

const dir = resolve(__dirname, '../../deploy/prometheus');
const hasPromtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const skip = hasPromtool
  ? false
  : 'promtool not found on PATH: install Debian package `prometheus` (apt-get install prometheus) to run these checks';

function promtool(...args: string[]) {
  const r = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('deploy/prometheus with promtool', { skip }, () => {
  test('when the scrape config is checked, then promtool accepts it and its rule files', () => {
    const r = promtool('check', 'config', 'prometheus.yml');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: prometheus\.yml is valid/);
  });

  test('when the shipped config is read, then its file_sd glob matches no file: the example target is not live config', () => {
    const glob = /files: \['targets\/(workers-\*\.json)'\]/.exec(
      readFileSync(join(dir, 'prometheus.yml'), 'utf8'),
    );
    assert.ok(glob, 'prometheus.yml reads targets/workers-*.json');
    const live = readdirSync(join(dir, 'targets')).filter((f) => /^workers-.*\.json$/.test(f));
    assert.deepEqual(live, [], 'no target file is shipped under deploy/prometheus/targets/');
    assert.ok(readdirSync(join(dir, 'examples')).includes('workers-targets.json'));
  });

  test('when the alert rules are checked, then every rule parses', () => {
    const r = promtool('check', 'rules', 'rules/trader-alerts.yml');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: \d+ rules found/);
  });

  test('when the rule unit tests run, then daily-loss, stale-data and the other alerts fire on crafted series', () => {
    const r = promtool('test', 'rules', 'tests/trader-alerts.test.yml');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });

  test('when every Grafana panel query is compiled by promtool, then each is valid PromQL', () => {
    const dashboards = resolve(__dirname, '../../deploy/grafana/dashboards');
    const rules: string[] = [];
    for (const f of readdirSync(dashboards).filter((x) => x.endsWith('.json'))) {
      const d = JSON.parse(readFileSync(join(dashboards, f), 'utf8')) as {
        panels: Array<{ targets?: Array<{ expr: string }> }>;
      };
      for (const p of d.panels) {
        for (const t of p.targets ?? []) {
          // Grafana's variables are substituted the way Grafana would before sending the query.
          const expr = t.expr
            .replace(/\$__rate_interval/g, '1m')
            .replace(/\$__range/g, '6h')
            .replace(/\$\w+/g, '.*');
          rules.push(`      - record: panel_query_${rules.length}\n        expr: ${JSON.stringify(expr)}`);
        }
      }
    }
    const tmp = mkdtempSync(join(tmpdir(), 'grafana-promql-'));
    try {
      writeFileSync(join(tmp, 'panels.yml'), `groups:\n  - name: panels\n    rules:\n${rules.join('\n')}\n`);
      const r = promtool('check', 'rules', join(tmp, 'panels.yml'));
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

const amtool = process.env.AMTOOL ?? 'amtool';
const hasAmtool = spawnSync(amtool, ['--version'], { encoding: 'utf8' }).status === 0;

describe(
  'deploy/prometheus/alertmanager.yml with amtool',
  {
    skip: hasAmtool
      ? false
      : 'amtool not found: `go install github.com/prometheus/alertmanager/cmd/amtool@v0.27.0` (or set AMTOOL) to check the Alertmanager routing',
  },
  () => {
    const run = (...args: string[]) => {
      const r = spawnSync(amtool, args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      return { code: r.status, stdout: r.stdout, out: `${r.stdout}${r.stderr}` };
    };

    test('when the Alertmanager config is checked, then amtool accepts it', () => {
      const r = run('check-config', 'alertmanager.yml');
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /SUCCESS/);
    });

    test('when alerts of each severity are routed, then each reaches its own Slack receiver', () => {
      for (const [severity, receiver] of [
        ['critical', 'slack-critical'],
        ['warning', 'slack-warning'],
        ['info', 'slack-info'],
      ] as const) {
        const r = run('config', 'routes', 'test', '--config.file=alertmanager.yml', `severity=${severity}`);
        assert.equal(r.code, 0, r.out);
        // amtool prints a note about --config.file on stderr; the receiver is on stdout.
        assert.equal(r.stdout.trim(), receiver);
      }
    });
  },
);

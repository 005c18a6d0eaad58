/**
 * Static validation of the production manifests (deploy/k8s overlays and deploy/temporal): no Docker engine
 * or cluster exists here, so kustomize renders each one, tools/k8s-validate decodes every document strictly
 * into the typed k8s.io/api objects and applies the project's deployment policy, and
 * tools/temporal-config-check renders the Temporal server config with the server's own code. The tools are
 * built with Go into a cache outside the clone (~/.cache/trading-system/tools) and reused on later runs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../../contracts/task-queues';
import { configSchema, loadConfig } from '../../src/config/config';

const root = resolve(__dirname, '../..');
const KUSTOMIZE_VERSION = 'v5.8.2';
/** The workers' shutdownGraceTime (workers/run-worker.ts); pods must get longer than this after SIGTERM. */
const WORKER_SHUTDOWN_GRACE_S = 20;
const toolsDir =
  process.env.TRADER_TOOLS_DIR ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'trading-system', 'tools');
const fixturesDir = join(root, 'test/fixtures/k8s');

const goVersion = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
const skipReason =
  goVersion.error || goVersion.status !== 0
    ? 'SKIPPED: Go is not on PATH, so kustomize and the tools/ checkers cannot be built; install Go (>= 1.26) to validate deploy/'
    : false;
if (skipReason) console.log(skipReason);

function goEnv(): NodeJS.ProcessEnv {
  const flags = process.env.GOFLAGS ?? '';
  // the validator lives inside this git checkout; VCS stamping would make the build depend on git state
  return { ...process.env, GOFLAGS: flags.includes('buildvcs') ? flags : `${flags} -buildvcs=false`.trim() };
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? root,
    input: opts.input,
    env: opts.env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return r;
}

/** Builds into a temporary directory, then renames it into place, so a killed build never leaves a half binary. */
function buildOnce(
  finalDir: string,
  binary: string,
  build: (outDir: string) => SpawnSyncReturns<string>,
): string {
  const target = join(finalDir, binary);
  if (existsSync(target)) return target;
  mkdirSync(toolsDir, { recursive: true });
  const tmp = `${finalDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const r = build(tmp);
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    assert.fail(`building ${binary} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  }
  try {
    renameSync(tmp, finalDir);
  } catch {
    // another run finished the same build first; its binary is identical
    rmSync(tmp, { recursive: true, force: true });
  }
  return target;
}

function kustomizeBinary(): string {
  return buildOnce(join(toolsDir, `kustomize-${KUSTOMIZE_VERSION}`), 'kustomize', (out) =>
    run('go', ['install', `sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}`], {
      env: { ...goEnv(), GOBIN: out },
    }),
  );
}

/** A Go program under tools/, keyed by a hash of its sources, so an edit to it rebuilds it. */
function toolBinary(name: string): string {
  const src = join(root, 'tools', name);
  const hash = createHash('sha256');
  for (const f of readdirSync(src)
    .filter((n) => n.endsWith('.go') || n === 'go.mod' || n === 'go.sum')
    .sort()) {
    hash.update(f).update(readFileSync(join(src, f)));
  }
  const key = hash.digest('hex').slice(0, 16);
  return buildOnce(join(toolsDir, `${name}-${key}`), name, (out) =>
    run('go', ['build', '-o', join(out, name), '.'], { cwd: src, env: goEnv() }),
  );
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: any;
  data?: Record<string, string>;
}

let tools: { kustomize: string; validator: string; temporalConfigCheck: string } | undefined;
function getTools() {
  tools ??= {
    kustomize: kustomizeBinary(),
    validator: toolBinary('k8s-validate'),
    temporalConfigCheck: toolBinary('temporal-config-check'),
  };
  return tools;
}

/** kustomize build + strict validation; returns the decoded documents. */
function buildAndValidate(dir: string): K8sObject[] {
  const { kustomize, validator } = getTools();
  const built = run(kustomize, ['build', dir]);
  assert.equal(built.status, 0, `kustomize build ${dir} failed:\n${built.stderr}`);
  const checked = run(validator, ['-o', 'json', '-name', dir, '-'], { input: built.stdout });
  assert.equal(checked.status, 0, `${dir} is not valid:\n${checked.stderr}`);
  return JSON.parse(checked.stdout) as K8sObject[];
}

const find = (docs: K8sObject[], kind: string, name: string): K8sObject => {
  const o = docs.find((d) => d.kind === kind && d.metadata.name === name);
  assert.ok(
    o,
    `${kind}/${name} is missing; have ${docs.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`,
  );
  return o;
};
const workerDeployments = (docs: K8sObject[]) =>
  docs.filter((d) => d.kind === 'Deployment' && d.spec?.template?.metadata?.labels?.['trader.io/task-queue']);
const configMapData = (docs: K8sObject[], prefix: string): Record<string, string> => {
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name.startsWith(prefix));
  assert.ok(cm, `no ConfigMap named ${prefix}*`);
  return cm.data ?? {};
};

const overlays = readdirSync(join(root, 'deploy/k8s/overlays')).sort();

describe('deploy manifests', { skip: skipReason }, () => {
  test('when the tools are built, then they land in the cache outside the clone and are reused', () => {
    const { kustomize, validator, temporalConfigCheck } = getTools();
    for (const bin of [kustomize, validator, temporalConfigCheck]) {
      assert.ok(bin.startsWith(toolsDir) && !bin.startsWith(root), `${bin} should live under ${toolsDir}`);
      assert.ok(existsSync(bin));
    }
    assert.match(run(kustomize, ['version']).stdout, new RegExp(KUSTOMIZE_VERSION.replace(/\./g, '\\.')));
  });

  test('when every overlay is rendered, then each document decodes strictly and passes the policy', () => {
    assert.deepEqual(overlays, ['gpu', 'live', 'paper']);
    for (const overlay of overlays) {
      const docs = buildAndValidate(`deploy/k8s/overlays/${overlay}`);
      assert.ok(docs.length > 0, overlay);
      // credentials are never part of the manifests: the Secret is created out of band
      assert.equal(docs.filter((d) => d.kind === 'Secret').length, 0, `${overlay} must not contain a Secret`);
    }
  });

  test('when the paper overlay is rendered, then there is one worker per task queue with PDBs, an io HPA and Redis', () => {
    const docs = buildAndValidate('deploy/k8s/overlays/paper');
    const workers = workerDeployments(docs);
    assert.deepEqual(
      workers.map((w) => w.spec.template.metadata.labels['trader.io/task-queue']).sort(),
      Object.values(TASK_QUEUES).sort(),
    );
    for (const w of workers) {
      const queue = w.spec.template.metadata.labels['trader.io/task-queue'] as string;
      const pod = w.spec.template.spec;
      const [container] = pod.containers;
      assert.deepEqual(container.command, ['node', '--import', 'tsx', `workers/${queue}.ts`]);
      assert.ok(existsSync(join(root, `workers/${queue}.ts`)), `workers/${queue}.ts must exist`);
      assert.ok(
        pod.terminationGracePeriodSeconds > WORKER_SHUTDOWN_GRACE_S,
        `${w.metadata.name} grace period`,
      );
      assert.equal(w.spec.template.metadata.annotations['prometheus.io/port'], '9464');
      const secretEnv = container.env.filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name);
      assert.deepEqual(secretEnv.sort(), ['DATABASE_URL', 'REDIS_URL']);
      assert.ok(container.envFrom.some((e: any) => e.secretRef?.name === 'trader-secrets'));
      const pdb = docs.find(
        (d) =>
          d.kind === 'PodDisruptionBudget' &&
          d.spec.selector.matchLabels['app.kubernetes.io/name'] === w.metadata.name,
      );
      assert.ok(pdb, `${w.metadata.name} has a PodDisruptionBudget`);
    }
    assert.equal(find(docs, 'HorizontalPodAutoscaler', 'worker-io').spec.scaleTargetRef.name, 'worker-io');
    assert.equal(docs.filter((d) => d.kind === 'HorizontalPodAutoscaler').length, 1, 'only io autoscales');
    find(docs, 'StatefulSet', 'redis');
    // migrations run as a Job from the very image the workers run
    const migrate = find(docs, 'Job', 'trader-migrate').spec.template.spec.containers[0];
    assert.deepEqual(migrate.command, ['node', '--import', 'tsx', 'cli/main.ts', 'migrate']);
    assert.ok(existsSync(join(root, 'cli/main.ts')));
    assert.deepEqual(
      new Set(workers.map((w) => w.spec.template.spec.containers[0].image)),
      new Set([migrate.image]),
    );
    const config = configMapData(docs, 'trader-config');
    assert.equal(config.TRADING_MODE, 'paper');
    assert.equal(config.METRICS_PORT, '9464');
    for (const key of Object.keys(config))
      assert.doesNotMatch(key, /SECRET|TOKEN|PASSWORD|DATABASE_URL|REDIS_URL/);
  });

  test('when the gpu overlay is rendered, then only the training worker requests a GPU and lands on GPU nodes', () => {
    const docs = buildAndValidate('deploy/k8s/overlays/gpu');
    for (const w of workerDeployments(docs)) {
      const pod = w.spec.template.spec;
      const limits = pod.containers[0].resources.limits;
      if (w.metadata.name === 'worker-training') {
        assert.equal(limits['nvidia.com/gpu'], '1');
        assert.equal(pod.nodeSelector['nvidia.com/gpu.present'], 'true');
        assert.ok(pod.tolerations.some((t: any) => t.key === 'nvidia.com/gpu'));
        assert.match(pod.containers[0].image, /-gpu$/);
        const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
        assert.equal(env.XGBOOST_DEVICE, 'cuda', 'every XGBoost fit on the GPU worker runs on the GPU');
        assert.equal(env.ONNX_EXECUTION_PROVIDER, 'cuda');
        assert.equal(env.XGBOOST_LIBRARY_PATH, '/opt/xgboost/lib/libxgboost.so');
        assert.ok('DATABASE_URL' in env, 'the patch adds env entries; the base ones stay');
      } else {
        assert.equal(limits['nvidia.com/gpu'], undefined, `${w.metadata.name} must not take a GPU`);
      }
    }
  });

  test('when the live overlay is rendered, then every worker trades live only with the confirmation from the Secret', () => {
    const docs = buildAndValidate('deploy/k8s/overlays/live');
    assert.equal(configMapData(docs, 'trader-config').TRADING_MODE, 'live');
    for (const w of workerDeployments(docs)) {
      const confirm = w.spec.template.spec.containers[0].env.find(
        (e: any) => e.name === 'LIVE_TRADING_CONFIRM',
      );
      assert.equal(
        confirm?.valueFrom?.secretKeyRef?.name,
        'trader-secrets',
        `${w.metadata.name} reads LIVE_TRADING_CONFIRM from the Secret`,
      );
      assert.notEqual(confirm.valueFrom.secretKeyRef.optional, true);
    }
  });

  test("when a worker's environment is assembled from the ConfigMap and the Secret, then the app's config accepts it", () => {
    // Keys the pods set that are not part of the app's config object: Node's own, and the address the
    // metrics server binds to inside a pod.
    const runtimeOnly = new Set(['NODE_ENV', 'NODE_OPTIONS', 'METRICS_HOST']);
    const secrets = {
      DATABASE_URL: 'postgres://trader:stand-in@db.example.internal:5432/trader',
      REDIS_URL: 'redis://:stand-in@redis.trading.svc.cluster.local:6379',
      APCA_API_KEY_ID: 'stand-in-key',
      APCA_API_SECRET_KEY: 'stand-in-secret',
    };
    for (const [overlay, mode, extra] of [
      ['paper', 'paper', {}],
      ['live', 'live', { LIVE_TRADING_CONFIRM: 'I understand this trades real money' }],
    ] as const) {
      const docs = buildAndValidate(`deploy/k8s/overlays/${overlay}`);
      const data = configMapData(docs, 'trader-config');
      for (const key of Object.keys(data)) {
        assert.ok(
          key in configSchema.shape || runtimeOnly.has(key),
          `${overlay}: ConfigMap key ${key} is not a config setting`,
        );
      }
      for (const w of workerDeployments(docs)) {
        const env: Record<string, string> = { ...data, ...secrets, ...extra };
        for (const e of w.spec.template.spec.containers[0].env)
          if (e.value !== undefined) env[e.name] = e.value;
        const config = loadConfig(env);
        assert.equal(config.TRADING_MODE, mode, w.metadata.name);
        assert.equal(config.METRICS_PORT, 9464);
        assert.equal(config.TEMPORAL_NAMESPACE, 'trading');
      }
    }
  });

  test('when deploy/temporal is rendered, then it is a Postgres-backed cluster matching what the workers expect', () => {
    const docs = buildAndValidate('deploy/temporal');
    const images = new Set<string>();
    for (const svc of ['frontend', 'history', 'matching', 'worker']) {
      const d = find(docs, 'Deployment', `temporal-${svc}`);
      const c = d.spec.template.spec.containers[0];
      images.add(c.image.split(':')[1]);
      assert.equal(c.env.find((e: any) => e.name === 'TEMPORAL_SERVICES').value, svc);
      assert.equal(
        c.env.find((e: any) => e.name === 'SQL_PASSWORD').valueFrom.secretKeyRef.name,
        'temporal-postgres',
      );
    }
    const schemaJob = find(docs, 'Job', 'temporal-schema');
    const schemaContainer = schemaJob.spec.template.spec.containers[0];
    assert.match(schemaContainer.args.join('\n'), /temporal-sql-tool --plugin postgres12/);
    // schema and server come from the same release
    images.add(schemaContainer.image.split(':')[1]);
    assert.equal(images.size, 1, `server and admin-tools versions differ: ${[...images].join(', ')}`);
    const serverConfig = configMapData(docs, 'temporal-server-config')['config_template.yaml'];
    assert.match(serverConfig, /^# enable-template/);
    assert.match(serverConfig, /pluginName: postgres12/);
    assert.equal(configMapData(docs, 'temporal-persistence').SQL_PLUGIN, 'postgres12');
    find(docs, 'Deployment', 'temporal-ui');

    // the namespace Job registers the namespace and search attributes the workers and workflows use
    const nsJob = find(docs, 'Job', 'temporal-namespace').spec.template.spec.containers[0];
    const script = nsJob.args.join('\n') as string;
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES))
      assert.ok(script.includes(`${name}:${type}`), `search attribute ${name}:${type}`);
    const workerConfig = configMapData(buildAndValidate('deploy/k8s/overlays/paper'), 'trader-config');
    assert.equal(nsJob.env.find((e: any) => e.name === 'NAMESPACE').value, workerConfig.TEMPORAL_NAMESPACE);
    const frontend = find(docs, 'Service', 'temporal-frontend');
    const grpcPort = frontend.spec.ports.find((p: any) => p.name === 'grpc').port as number;
    assert.equal(
      workerConfig.TEMPORAL_ADDRESS,
      `temporal-frontend.${frontend.metadata.namespace}.svc.cluster.local:${grpcPort}`,
    );
  });

  test('when each Temporal service renders its server config, then the server code accepts it and it matches the pod', () => {
    const docs = buildAndValidate('deploy/temporal');
    const serverConfig = docs.find(
      (d) => d.kind === 'ConfigMap' && d.metadata.name.startsWith('temporal-server-config'),
    );
    assert.ok(serverConfig?.data);
    // check what is deployed (the rendered ConfigMap), not the source files
    const dir = mkdtempSync(join(tmpdir(), 'temporal-config-'));
    try {
      for (const [key, value] of Object.entries(serverConfig.data)) writeFileSync(join(dir, key), value);
      for (const svc of ['frontend', 'history', 'matching', 'worker']) {
        const pod = find(docs, 'Deployment', `temporal-${svc}`).spec.template.spec;
        const c = pod.containers[0];
        // exactly the environment the container gets: literal values, the ConfigMap, stand-ins for the rest
        const env: Record<string, string> = {};
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef) Object.assign(env, configMapData(docs, from.configMapRef.name as string));
        }
        for (const e of c.env)
          env[e.name] = e.value ?? (e.valueFrom?.fieldRef ? '10.1.2.3' : 'stand-in-secret');
        const r = run(getTools().temporalConfigCheck, [
          ...Object.entries(env).flatMap(([k, v]) => ['-set', `${k}=${v}`]),
          '-dynamic',
          join(dir, 'dynamic_config.yaml'),
          '-o',
          'json',
          join(dir, 'config_template.yaml'),
        ]);
        assert.equal(r.status, 0, `temporal-${svc}: ${r.stderr}`);
        const cfg = JSON.parse(r.stdout);
        // the file the server is told to read is the one mounted from the ConfigMap
        const mounts = c.volumeMounts as { name: string; mountPath: string; subPath?: string }[];
        assert.ok(
          mounts.some(
            (m) =>
              m.mountPath === env.TEMPORAL_SERVER_CONFIG_FILE_PATH && m.subPath === 'config_template.yaml',
          ),
        );
        assert.ok(
          mounts.some((m) => cfg.dynamicConfigClient.filepath === `${m.mountPath}/dynamic_config.yaml`),
        );
        // every port the service listens on is a declared container port
        const rpc = cfg.services[svc].rpc;
        const declared = (c.ports as { name: string; containerPort: number }[]).map((p) => p.containerPort);
        for (const port of [rpc.grpcPort, rpc.membershipPort, rpc.httpPort].filter((p) => p !== undefined)) {
          assert.ok(
            declared.includes(port),
            `temporal-${svc} listens on ${port} but declares ${declared.join(', ')}`,
          );
        }
        assert.equal(
          cfg.global.metrics.prometheus.listenAddress,
          `0.0.0.0:${pod.containers[0].ports.find((p: any) => p.name === 'metrics').containerPort}`,
        );
        assert.equal(cfg.global.membership.broadcastAddress, '10.1.2.3');
        assert.equal(cfg.persistence.datastores.default.sql.pluginName, 'postgres12');
        assert.equal(cfg.persistence.datastores.visibility.sql.pluginName, 'postgres12');
      }
      const frontendSvc = find(docs, 'Service', 'temporal-frontend');
      assert.equal(frontendSvc.spec.ports.find((p: any) => p.name === 'grpc').port, 7233);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('when the Temporal config has a misspelt key or an unknown dynamic setting, then the checker rejects it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'temporal-config-'));
    try {
      const good = readFileSync(join(root, 'deploy/temporal/config/config_template.yaml'), 'utf8');
      writeFileSync(join(dir, 'config.yaml'), good.replace('numHistoryShards:', 'numHistoryShard:'));
      writeFileSync(join(dir, 'dynamic.yaml'), 'frontend.enableSchedulez:\n  - value: true\n');
      const r = run(getTools().temporalConfigCheck, [
        '-dynamic',
        join(dir, 'dynamic.yaml'),
        join(dir, 'config.yaml'),
      ]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /field numHistoryShard not found/);
      assert.match(r.stderr, /reads environment variable\(s\) the pod does not set: POD_IP, SQL_DATABASE/);
      assert.match(r.stderr, /unregistered key "frontend\.enableschedulez"/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('when the Dockerfile builds the image, then its user is the uid the worker pods run as', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^FROM node:20-bookworm-slim AS base$/m);
    assert.match(dockerfile, /apt-get install[^\n]*libxgboost0/);
    assert.match(dockerfile, /npm ci --omit=dev/);
    // the build context keeps everything `node --import tsx workers/<queue>.ts` and `cli/main.ts migrate` load
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim().replace(/\/$/, ''))
      .filter((l) => l && !l.startsWith('#'));
    for (const needed of [
      'package.json',
      'package-lock.json',
      '.npmrc',
      'tsconfig.json',
      'workers',
      'workflows',
      'activities',
      'contracts',
      'src',
      'cli',
      'migrations',
    ]) {
      assert.ok(existsSync(join(root, needed)), `${needed} exists`);
      assert.ok(!ignored.includes(needed), `.dockerignore must not exclude ${needed}`);
    }
    const uid = /useradd[^\n]*--uid (\d+)/.exec(dockerfile)?.[1];
    assert.ok(uid, 'Dockerfile creates a user with a fixed uid');
    assert.match(dockerfile, new RegExp(`^USER ${uid}:`, 'm'));
    for (const w of workerDeployments(buildAndValidate('deploy/k8s/overlays/paper'))) {
      assert.equal(String(w.spec.template.spec.securityContext.runAsUser), uid, w.metadata.name);
    }
  });

  test('when the valid fixture is checked, then it passes (so each broken fixture fails only for its defect)', () => {
    const r = run(getTools().validator, [join(fixturesDir, 'valid-worker.yaml')]);
    assert.equal(r.status, 0, r.stderr);
  });

  const broken = readdirSync(fixturesDir)
    .filter((f) => f.startsWith('broken-') && f.endsWith('.yaml'))
    .sort();
  test('when there are broken fixtures, then there is one per kind of check', () => {
    assert.ok(broken.length >= 15, `only ${broken.length} broken fixtures`);
  });
  for (const file of broken) {
    test(`when ${file} is checked, then the validator rejects it naming the file, document and problem`, () => {
      const path = join(fixturesDir, file);
      const expects = [...readFileSync(path, 'utf8').matchAll(/^# expect: (.+)$/gm)].map((m) => m[1]);
      assert.ok(expects.length > 0, `${file} needs a "# expect:" line`);
      const r = run(getTools().validator, [path]);
      assert.equal(r.status, 1, `${file} should be rejected (exit 1), got ${r.status}:\n${r.stderr}`);
      const problems = r.stderr.split('\n').filter((l) => l.startsWith(`${path}:`));
      assert.ok(problems.length > 0, `no located problem in:\n${r.stderr}`);
      for (const line of problems) {
        assert.match(line, /^[^:]+:\d+: document \d+ \([^/]+\/[^)]+\): /, `unlocated: ${line}`);
        assert.ok(
          expects.some((e) => line.includes(e)),
          `unexpected problem (only ${expects.join(' | ')} expected): ${line}`,
        );
      }
      for (const e of expects)
        assert.ok(
          problems.some((l) => l.includes(e)),
          `expected "${e}" in:\n${r.stderr}`,
        );
    });
  }
});

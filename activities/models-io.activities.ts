import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { DatasetRef, ModelIoActivities } from '../contracts/retrain';
import type { Alert } from '../src/monitoring/alerting/alert';
import { AuditLog } from '../src/monitoring/audit/audit-log';
import { FEATURE_SETS } from '../src/features';
import { withLeakageCanary } from '../src/models/validation/leakage';
import {
  buildDatasetFor,
  datasetBarMs,
  MODELS_FEATURE_SET,
  readBarsCsvGz,
  serializeDataset,
  type DatasetFeatureSet,
  type MinuteBars,
} from '../src/models/dataset';

export interface ModelIoDeps {
  pool: Pool;
  artifactDir: string;
  /** ../shared/data (SHARED_DATA_DIR) for `shared-csv` sources. */
  sharedDataDir?: string;
  /** Where the retrain outcome is announced (Slack in production); the log and audit_log always get it. */
  alerter?: { send(alert: Alert): Promise<unknown> };
  log?: (msg: string) => void;
}

async function barsFromDb(pool: Pool, symbol: string, fromMs: number, toMs: number): Promise<MinuteBars> {
  const { rows } = await pool.query<{
    ts: Date;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number;
  }>(
    `select ts, open, high, low, close, volume from bars
     where symbol = $1 and timeframe = '1m' and ts >= to_timestamp($2/1000.0) and ts < to_timestamp($3/1000.0) order by ts`,
    [symbol, fromMs, toMs],
  );
  const col = (f: (r: (typeof rows)[number]) => number) => Float64Array.from(rows, f);
  return {
    symbol,
    ts: col((r) => r.ts.getTime()),
    open: col((r) => r.open),
    high: col((r) => r.high),
    low: col((r) => r.low),
    close: col((r) => r.close),
    volume: col((r) => r.volume),
  };
}

/** Activities for the `io` task queue: build the training dataset, and announce the retrain's outcome. */
export function createModelIoActivities(deps: ModelIoDeps): ModelIoActivities {
  const log = deps.log ?? ((m: string) => console.log(m));
  const audit = new AuditLog(deps.pool);
  return {
    /**
     * Builds the dataset and writes it to the artifact directory; with `leakageCanary` it adds a feature built from
     * the future return, which the evaluate step must catch (the pipeline's self-test).
     */
    async buildRetrainDataset({
      source,
      horizonMinutes,
      maxRows,
      featureSet,
      leakageCanary,
    }): Promise<DatasetRef> {
      const set = featureSet ?? MODELS_FEATURE_SET;
      if (set !== MODELS_FEATURE_SET && !(set in FEATURE_SETS)) {
        throw ApplicationFailure.nonRetryable(
          `featureSet: unknown "${set}"; known: ${[MODELS_FEATURE_SET, ...Object.keys(FEATURE_SETS)].join(', ')}`,
          'ValidationError',
        );
      }
      let bars: MinuteBars;
      if (source.kind === 'shared-csv') {
        if (!deps.sharedDataDir)
          throw ApplicationFailure.nonRetryable(
            'source: shared-csv needs SHARED_DATA_DIR on the io worker',
            'ConfigError',
          );
        if (source.path.includes('..'))
          throw ApplicationFailure.nonRetryable(
            `source.path: "${source.path}" must stay inside the shared data dir`,
            'ValidationError',
          );
        bars = readBarsCsvGz(resolve(deps.sharedDataDir, source.path), source.symbol);
      } else {
        bars = await barsFromDb(deps.pool, source.symbol, source.fromMs, source.toMs);
      }
      let ds;
      try {
        ds = buildDatasetFor(bars, set as DatasetFeatureSet, { horizonMinutes });
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, 'ValidationError');
      }
      if (maxRows && ds.nrow > maxRows) {
        // Keep the most recent rows: retraining cares about the latest regime.
        const from = ds.nrow - maxRows;
        ds = {
          ...ds,
          nrow: maxRows,
          X: ds.X.slice(from * ds.ncol),
          forwardReturn: ds.forwardReturn.slice(from),
          notional: ds.notional.slice(from),
          decisionTs: ds.decisionTs.slice(from),
          labelEndTs: ds.labelEndTs.slice(from),
        };
        ds.dataHash = createHash('sha256')
          .update(Buffer.from(ds.X.buffer))
          .update(Buffer.from(ds.forwardReturn.buffer))
          .digest('hex');
      }
      if (leakageCanary) {
        ds = withLeakageCanary(ds);
        log(
          `[retrain] dataset ${ds.dataHash}: leakage canary feature added (the evaluate step must refuse the model)`,
        );
      }
      const path = join(deps.artifactDir, 'datasets', `${ds.dataHash}.bin`);
      mkdirSync(join(deps.artifactDir, 'datasets'), { recursive: true });
      writeFileSync(path, serializeDataset(ds));
      return {
        path,
        dataHash: ds.dataHash,
        symbol: ds.symbol,
        featureSet: ds.featureSet,
        featureSetVersion: ds.featureSetVersion,
        featureNames: ds.featureNames,
        rows: ds.nrow,
        fromMs: ds.decisionTs[0]!,
        toMs: ds.labelEndTs[ds.nrow - 1]!,
        horizonMinutes: ds.horizonMinutes,
        barMs: datasetBarMs(ds.featureSet),
      };
    },

    async notifyRetrain({ workflowId, name, modelId, decision, reason, oos }): Promise<void> {
      log(`[retrain] ${name}: model ${modelId} ${decision} — ${reason}`);
      const action = `model.${decision}`;
      // The idempotency key makes a retried notification find the row its first attempt wrote.
      await audit.append({
        actor: 'workflow:retrainWorkflow',
        action,
        subject: modelId,
        reason,
        details: { name, oos },
        workflowId,
        idempotencyKey: `${workflowId}:${action}:${modelId}`,
      });
      await deps.alerter?.send({
        key: `retrain:${name}:${modelId}`,
        severity: decision === 'rejected' ? 'warning' : 'info',
        title: decision === 'shadow' ? `Model in shadow: ${name}` : `Model ${decision}: ${name}`,
        text: `${modelId} ${decision === 'shadow' ? 'entered shadow' : `was ${decision}`}. ${reason}. Out of sample: net P&L $${oos.netPnl.toFixed(2)}, hit rate ${(oos.hitRate * 100).toFixed(1)}%, IC ${oos.ic.toFixed(4)}.`,
        workflowId,
        actions: [`npm run trader -- models show ${modelId}`],
      });
    },
  };
}

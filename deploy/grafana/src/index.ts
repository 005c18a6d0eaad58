import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { dataHealthDashboard } from './data-health';
import { executionDashboard } from './execution';
import { modelsDashboard } from './models';
import { pnlDashboard } from './pnl';
import { riskDashboard } from './risk';
import { temporalSystemDashboard } from './temporal-system';

/** Every provisioned dashboard and the file under deploy/grafana/dashboards/ it is written to. */
export const DASHBOARDS: ReadonlyArray<{ readonly file: string; readonly build: () => DashboardBuilder }> = [
  { file: 'pnl.json', build: pnlDashboard },
  { file: 'risk.json', build: riskDashboard },
  { file: 'execution.json', build: executionDashboard },
  { file: 'data-health.json', build: dataHealthDashboard },
  { file: 'models.json', build: modelsDashboard },
  { file: 'temporal-system.json', build: temporalSystemDashboard },
];

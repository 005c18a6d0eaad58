/**
 * Writes deploy/grafana/dashboards/*.json from the typed dashboard sources in deploy/grafana/src/ (Grafana
 * Foundation SDK builders, one file per dashboard). Run after editing a dashboard:
 *   npm run dashboards
 * test/unit/monitoring/dashboards.test.ts fails when the committed JSON differs from this output.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Dashboard, DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARDS } from '../deploy/grafana/src';

export const DASHBOARDS_DIR = resolve(__dirname, '../deploy/grafana/dashboards');

interface PanelLike {
  id?: number;
  panels?: PanelLike[];
  targets?: Array<{ refId?: string }>;
}

/** The dashboard as provisioned: panel ids 1..n in layout order, query refIds A, B, ... per panel. */
export function dashboardJson(build: () => DashboardBuilder): Dashboard {
  const d = build().build();
  let id = 1;
  const number = (panels: PanelLike[] | undefined) => {
    for (const p of panels ?? []) {
      p.id = id++;
      p.targets?.forEach((t, i) => (t.refId = String.fromCharCode(65 + i)));
      number(p.panels);
    }
  };
  number(d.panels as PanelLike[] | undefined);
  return d;
}

export function renderDashboards(): Array<{ file: string; json: string }> {
  return DASHBOARDS.map((d) => ({
    file: d.file,
    json: `${JSON.stringify(dashboardJson(d.build), null, 2)}\n`,
  }));
}

if (require.main === module) {
  for (const { file, json } of renderDashboards()) {
    writeFileSync(resolve(DASHBOARDS_DIR, file), json);
    console.log(`wrote deploy/grafana/dashboards/${file}`);
  }
}

import type { OperatorEvent } from '../../../contracts/monitoring';
import { sessionActions, type Alert } from './alert';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const usd = (x: number) => `${x.toFixed(2)} USD`;
const EMERGENCY = 'npm run trader -- shutdown --emergency --reason "<why>"';

/**
 * The alert for an operator event: severity (→ channel), de-duplication key (what makes two events "the same
 * problem", never the changing numbers), title, text with the numbers, and the commands to act.
 */
export function operatorAlert(e: OperatorEvent): Alert {
  switch (e.kind) {
    case 'risk_state': {
      const halted = e.state === 'HALTED';
      const fields: Record<string, string> = { account: e.account, state: e.state, day: e.tradingDay };
      const numbers: string[] = [];
      if (e.dailyPnlDollars !== undefined && e.dailyPnlRatio !== undefined) {
        fields['daily P&L'] = `${usd(e.dailyPnlDollars)} (${pct(e.dailyPnlRatio)})`;
        numbers.push(`Daily P&L ${usd(e.dailyPnlDollars)} (${pct(e.dailyPnlRatio)})`);
      }
      if (e.dailyLossLimitRatio !== undefined) {
        fields['daily loss limit'] = pct(e.dailyLossLimitRatio);
        numbers.push(`daily loss limit ${pct(e.dailyLossLimitRatio)}`);
      }
      if (e.drawdownRatio !== undefined) {
        fields.drawdown = pct(e.drawdownRatio);
        numbers.push(`drawdown ${pct(e.drawdownRatio)}`);
      }
      return {
        key: `risk-${e.state.toLowerCase()}:${e.account}:${e.tradingDay}`,
        severity: halted ? 'critical' : 'warning',
        title: `Risk engine ${e.state} on ${e.account}`,
        text:
          `${e.reason}.${numbers.length ? ` ${numbers.join(', ')}.` : ''} ` +
          (halted
            ? 'No new orders are placed and positions are being flattened; verify flat before resuming.'
            : 'Only risk-reducing orders are placed until the risk engine is ACTIVE again.'),
        workflowId: e.workflowId,
        runId: e.runId,
        actions: e.workflowId ? sessionActions(e.workflowId) : [EMERGENCY],
        fields,
      };
    }
    case 'session_failed':
      return {
        key: `session-failed:${e.workflowId}:${e.runId ?? ''}`,
        severity: 'critical',
        title: `Trading session ${e.workflowId} failed`,
        text:
          `${e.error}. Its positions are no longer managed` +
          (e.openPositions !== undefined ? ` (${e.openPositions} open)` : '') +
          ': flatten them or start a new session.',
        workflowId: e.workflowId,
        runId: e.runId,
        actions: [EMERGENCY, `temporal workflow show --workflow-id ${e.workflowId}`],
        fields: { account: e.account },
      };
    case 'stale_data': {
      const shown =
        e.symbols.slice(0, 10).join(', ') +
        (e.symbols.length > 10 ? ` and ${e.symbols.length - 10} more` : '');
      return {
        key: `stale-data:${e.account}:${e.timeframe}`,
        severity: 'warning',
        title: `Stale ${e.timeframe} data on ${e.account}`,
        text: `Newest ${e.timeframe} bar is ${Math.round(e.newestBarAgeSeconds)} s old for ${shown}. New entries are blocked until data is fresh; check the io worker and the data source.`,
        workflowId: e.workflowId,
        actions: ['npm run trader -- data quality', ...(e.workflowId ? sessionActions(e.workflowId) : [])],
        fields: { account: e.account, timeframe: e.timeframe, symbols: String(e.symbols.length) },
      };
    }
    case 'emergency_shutdown_started':
      return {
        key: `emergency-shutdown:${e.workflowId}:started`,
        severity: 'critical',
        title: 'Emergency shutdown started',
        text: `${e.requestedBy} started an emergency shutdown${e.account ? ` of ${e.account}` : ''}: every session is killed, orders canceled, positions flattened. Reason: ${e.reason}`,
        workflowId: e.workflowId,
        actions: [`temporal workflow show --workflow-id ${e.workflowId}`],
        fields: { 'requested by': e.requestedBy },
      };
    case 'emergency_shutdown_result': {
      const remaining = e.remainingPositions.map((p) => `${p.symbol} ${p.qty}`).join(', ');
      return {
        key: `emergency-shutdown:${e.workflowId}:result`,
        severity: 'critical',
        title: e.flat ? 'Emergency shutdown complete: flat' : 'Emergency shutdown NOT flat',
        text: e.flat
          ? `${e.sessionsKilled} session(s) killed, ${e.ordersCanceled} order(s) canceled, ${e.closeOrders} closing order(s); flat at the broker. Reason: ${e.reason}`
          : `${e.error ? `${e.error}. ` : ''}Still open: ${e.remainingPositions.length} position(s)${remaining ? ` (${remaining})` : ''}, ${e.openOrders} order(s). Act at the broker now. Reason: ${e.reason}`,
        workflowId: e.workflowId,
        actions: e.flat ? [] : [EMERGENCY],
        fields: {
          'sessions killed': String(e.sessionsKilled),
          'orders canceled': String(e.ordersCanceled),
          'closing orders': String(e.closeOrders),
          ...(e.flat ? {} : { 'still open': remaining || `${e.openOrders} order(s)` }),
        },
      };
    }
    case 'model_decision':
      return {
        key: `model:${e.name}:${e.modelId}:${e.decision}`,
        severity: e.decision === 'promoted' ? 'info' : 'warning',
        title: `Model ${e.decision}: ${e.name}`,
        text:
          `${e.modelId} was ${e.decision}. ${e.reason}.` +
          (e.oos
            ? ` Out of sample: net P&L ${usd(e.oos.netPnl)}, hit rate ${(e.oos.hitRate * 100).toFixed(1)}%, IC ${e.oos.ic.toFixed(4)}.`
            : ''),
        workflowId: e.workflowId,
        actions: [`npm run trader -- models show ${e.modelId}`],
      };
    case 'model_drift':
      return {
        key: `drift:${e.model}:${e.tradingDay}`,
        severity: 'warning',
        title: `Prediction drift on model ${e.model}`,
        text: e.reasons?.length
          ? `Drift on ${e.tradingDay}: ${e.reasons.join('; ')}. The learning loop retrains on a sustained breach.`
          : `PSI ${e.psi.toFixed(3)} > ${e.threshold}: live predictions no longer look like the training distribution. Consider a retrain.`,
        actions: e.name
          ? [`npm run trader -- learning status --name ${e.name}`]
          : [`npm run trader -- models retrain --name ${e.model}`],
        fields: { PSI: e.psi.toFixed(3), threshold: String(e.threshold) },
      };
  }
}

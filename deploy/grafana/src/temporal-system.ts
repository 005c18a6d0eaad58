/**
 * Temporal and system: workers (trader_worker_up / _info set by workers/run-worker.ts), the Temporal SDK runtime
 * metrics each worker merges into its /metrics (counters without _total, histograms in milliseconds), the
 * Temporal server (job temporal-server), host CPU/GPU (the host sampler on training and dev workers; GPU where
 * nvidia-smi answers), worker process metrics and alerts sent (the Slack alerter).
 */
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { DS, labelVariable, legendBottom, q, qi, RATE, row, traderDashboard } from './common';

const inst = 'instance=~"$instance"';

export function temporalSystemDashboard() {
  return traderDashboard({
    uid: 'trader-temporal-system',
    title: 'Trader / Temporal and system',
    description:
      'Workers, workflows (trader counters + Temporal SDK runtime metrics, histograms in milliseconds), the Temporal server, and host resources.',
    variables: [labelVariable('instance', 'Worker', 'trader_worker_up')],
  })
    .withRow(row('Workers'))
    .withPanel(
      new statetimeline.PanelBuilder()
        .title('Workers polling')
        .datasource(DS)
        .span(24)
        .height(5)
        .withTarget(q(`max by (instance, queue) (trader_worker_up{${inst}})`, '{{instance}} {{queue}}')),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Worker versions')
        .datasource(DS)
        .span(12)
        .height(8)
        .withTarget(
          qi('max by (instance, worker, version, node_version, trading_mode) (trader_worker_info)'),
        ),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Task slots used')
        .datasource(DS)
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            'sum by (task_queue, worker_type) (temporal_worker_task_slots_used)',
            '{{task_queue}} {{worker_type}}',
          ),
        )
        .withTarget(
          q(
            'sum by (task_queue, worker_type) (temporal_worker_task_slots_available)',
            'free {{task_queue}} {{worker_type}}',
          ),
        ),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Pollers and sticky cache')
        .datasource(DS)
        .span(24)
        .height(8)
        .legend(legendBottom())
        .withTarget(q('sum by (poller_type) (temporal_num_pollers)', 'pollers {{poller_type}}'))
        .withTarget(q('sum(temporal_sticky_cache_size)', 'cached workflows')),
    )
    .withRow(row('Workflows and activities (SDK)'))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Workflows completed / failed per minute')
        .datasource(DS)
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            `sum by (workflow_type) (rate(temporal_workflow_completed[${RATE}])) * 60`,
            'completed {{workflow_type}}',
          ),
        )
        .withTarget(
          q(
            `sum by (workflow_type) (rate(temporal_workflow_failed[${RATE}])) * 60`,
            'failed {{workflow_type}}',
          ),
        )
        .withTarget(
          q(
            `sum by (workflow_type) (rate(trader_workflow_failures_total[${RATE}])) * 60`,
            'trader-recorded failures {{workflow_type}}',
          ),
        ),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Workflow task execution latency p95')
        .datasource(DS)
        .unit('ms')
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            `histogram_quantile(0.95, sum by (le, workflow_type) (rate(temporal_workflow_task_execution_latency_bucket[${RATE}])))`,
            '{{workflow_type}}',
          ),
        ),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Schedule-to-start latency p95 (backlog)')
        .datasource(DS)
        .unit('ms')
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            `histogram_quantile(0.95, sum by (le, task_queue) (rate(temporal_workflow_task_schedule_to_start_latency_bucket[${RATE}])))`,
            'workflow {{task_queue}}',
          ),
        )
        .withTarget(
          q(
            `histogram_quantile(0.95, sum by (le, task_queue) (rate(temporal_activity_schedule_to_start_latency_bucket[${RATE}])))`,
            'activity {{task_queue}}',
          ),
        ),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Activity execution latency p95 and failures')
        .datasource(DS)
        .unit('ms')
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            `histogram_quantile(0.95, sum by (le, activity_type) (rate(temporal_activity_execution_latency_bucket[${RATE}])))`,
            '{{activity_type}}',
          ),
        )
        .withTarget(
          q(
            `sum by (activity_type) (increase(temporal_activity_execution_failed[${RATE}]))`,
            'failed {{activity_type}}',
          ),
        ),
    )
    .withRow(row('Temporal server'))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Server requests per second')
        .datasource(DS)
        .unit('reqps')
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(`sum by (operation) (rate(service_requests{job="temporal-server"}[${RATE}]))`, '{{operation}}'),
        ),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Server latency p95 and persistence p95')
        .datasource(DS)
        .unit('s')
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(
          q(
            `histogram_quantile(0.95, sum by (le) (rate(service_latency_bucket{job="temporal-server"}[${RATE}])))`,
            'service',
          ),
        )
        .withTarget(
          q(
            `histogram_quantile(0.95, sum by (le) (rate(persistence_latency_bucket{job="temporal-server"}[${RATE}])))`,
            'persistence',
          ),
        ),
    )
    .withRow(row('System'))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Host CPU and GPU utilisation')
        .datasource(DS)
        .unit('percentunit')
        .span(8)
        .height(8)
        .legend(legendBottom())
        .withTarget(q('max by (instance) (trader_host_cpu_utilization_ratio)', 'cpu {{instance}}'))
        .withTarget(q('max by (instance, gpu) (trader_gpu_utilization_ratio)', 'gpu{{gpu}} {{instance}}')),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Worker process CPU (cores)')
        .datasource(DS)
        .span(8)
        .height(8)
        .legend(legendBottom())
        .withTarget(q(`rate(trader_worker_process_cpu_seconds_total{${inst}}[${RATE}])`, '{{instance}}')),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Memory: workers and GPUs')
        .datasource(DS)
        .unit('bytes')
        .span(8)
        .height(8)
        .legend(legendBottom())
        .withTarget(q(`trader_worker_process_resident_memory_bytes{${inst}}`, 'rss {{instance}}'))
        .withTarget(
          q(`sum by (instance) (trader_worker_nodejs_heap_size_used_bytes{${inst}})`, 'heap {{instance}}'),
        )
        .withTarget(q('max by (instance, gpu) (trader_gpu_memory_used_bytes)', 'gpu{{gpu}} {{instance}}')),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Event loop lag p99')
        .datasource(DS)
        .unit('s')
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(q(`trader_worker_nodejs_eventloop_lag_p99_seconds{${inst}}`, '{{instance}}')),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Alerts (since worker start)')
        .datasource(DS)
        .span(12)
        .height(8)
        .legend(legendBottom())
        .withTarget(q('sum by (severity, outcome) (trader_alerts_sent_total)', '{{severity}} {{outcome}}')),
    );
}

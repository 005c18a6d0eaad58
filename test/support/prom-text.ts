export { parsePrometheusText, sumOf, type Sample } from '../../src/monitoring/prom-text';

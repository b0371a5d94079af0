export { BacktestReportSchema, type BacktestReport } from './schema.ts';
export {
  STATISTIC_ROWS,
  escapeHtml,
  formatDurationDays,
  formatPercent,
  formatStatistic,
  formatStatisticsTable,
  formatTsIso,
  statisticRows,
} from './format.ts';
export { FILLS_CSV_HEADER, FillsCsvWriter, fillCsvRow } from './fills-csv.ts';
export { renderHtml } from './html.ts';
export { renderChart, timeTicks, valueTicks, type ChartLine, type ChartSpec } from './svg.ts';
export { REPORT_FILES, writeReport, type ReportPaths } from './write.ts';

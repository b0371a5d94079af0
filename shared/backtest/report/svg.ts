import { US_PER_DAY, US_PER_MINUTE, US_PER_SECOND } from '../../domain/time.ts';
import type { FillMarker } from '../stats.ts';
import { escapeHtml, formatTsIso } from './format.ts';

/** Charts are drawn in a fixed coordinate space and scaled to the page width by the viewBox. */
const WIDTH = 1000;
const MARGIN = { left: 84, right: 16, top: 14, bottom: 26 };
const US_PER_HOUR = 60 * US_PER_MINUTE;

export interface ChartLine {
  readonly values: readonly number[];
  readonly color: string;
  /** Fill between the line and the value 0 (clamped to the plot). */
  readonly area?: boolean;
}

export interface ChartSpec {
  readonly ts: readonly number[];
  readonly lines: readonly ChartLine[];
  readonly band?: { readonly low: readonly number[]; readonly high: readonly number[]; readonly color: string };
  readonly reference?: { readonly value: number; readonly label: string };
  readonly markers?: readonly FillMarker[];
  /** Formats a y tick; `step` is the tick spacing, so labels can show just enough decimals. */
  readonly formatValue: (value: number, step: number) => string;
  readonly height?: number;
  readonly label: string;
}

interface TimeTick {
  readonly ts: number;
  readonly label: string;
}

const FIXED_STEPS_US = [
  1, 2, 5, 10, 15, 30,
].map((s) => s * US_PER_SECOND).concat(
  [1, 2, 5, 10, 15, 30].map((m) => m * US_PER_MINUTE),
  [1, 2, 3, 6, 12].map((h) => h * US_PER_HOUR),
  [1, 2, 7, 14].map((d) => d * US_PER_DAY),
);
const MONTH_STEPS = [1, 2, 3, 6, 12, 24, 60, 120, 240];
const APPROX_US_PER_MONTH = 30.44 * US_PER_DAY;

function timeLabel(ts: number, stepUs: number, spanUs: number): string {
  const iso = formatTsIso(ts);
  if (stepUs >= 12 * APPROX_US_PER_MONTH * 0.99) return iso.slice(0, 4);
  if (stepUs >= APPROX_US_PER_MONTH * 0.99) return iso.slice(0, 7);
  if (stepUs >= US_PER_DAY) return iso.slice(0, 10);
  if (stepUs >= US_PER_MINUTE) return spanUs > US_PER_DAY ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
  return iso.slice(11, 19);
}

/** UTC-aligned ticks at a round step (seconds .. decades) giving at most `target` ticks. */
export function timeTicks(minTs: number, maxTs: number, target = 10): TimeTick[] {
  const span = Math.max(maxTs - minTs, 1);
  const fixed = FIXED_STEPS_US.find((step) => span / step <= target);
  if (fixed !== undefined) {
    const ticks: TimeTick[] = [];
    for (let ts = Math.ceil(minTs / fixed) * fixed; ts <= maxTs; ts += fixed) ticks.push({ ts, label: timeLabel(ts, fixed, span) });
    return ticks;
  }
  const months = MONTH_STEPS.find((m) => span / (m * APPROX_US_PER_MONTH) <= target) ?? MONTH_STEPS[MONTH_STEPS.length - 1];
  const start = new Date(Math.floor(minTs / 1000));
  // Month index since year 0, rounded up to a multiple of the step so labels land on round dates.
  let index = Math.ceil((start.getUTCFullYear() * 12 + start.getUTCMonth()) / months) * months;
  const ticks: TimeTick[] = [];
  for (;;) {
    const ts = Date.UTC(Math.floor(index / 12), index % 12, 1) * 1000;
    if (ts > maxTs) break;
    if (ts >= minTs) ticks.push({ ts, label: timeLabel(ts, months * APPROX_US_PER_MONTH, span) });
    index += months;
  }
  return ticks;
}

/** Round value ticks (1/2/2.5/5 x 10^n) covering [min, max]. */
export function valueTicks(min: number, max: number, target = 5): number[] {
  const raw = (max - min) / target;
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  // The round step whose tick count lands closest to the target.
  const step = [1, 2, 2.5, 5, 10]
    .map((m) => m * magnitude)
    .reduce((best, s) => (Math.abs((max - min) / s - target) < Math.abs((max - min) / best - target) ? s : best));
  const ticks: number[] = [];
  // Integer multiples of the step: accumulating the step would drift (0 becoming -1.4e-17).
  for (let i = Math.ceil(min / step - 1e-9); i * step <= max + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

function extent(spec: ChartSpec): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  const include = (values: readonly number[]): void => {
    for (const v of values) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  };
  for (const line of spec.lines) {
    include(line.values);
    if (line.area) include([0]);
  }
  if (spec.band) {
    include(spec.band.low);
    include(spec.band.high);
  }
  if (spec.reference) include([spec.reference.value]);
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.01;
    return [lo - pad, hi + pad];
  }
  const pad = (hi - lo) * 0.04;
  // An area anchored at 0 should touch the axis, not float above padding.
  return [lo === 0 ? 0 : lo - pad, hi === 0 ? 0 : hi + pad];
}

const round1 = (v: number): string => (Math.round(v * 10) / 10).toString();

/** One self-contained <svg> chart: time x-axis, value y-axis, lines/areas, optional band and fill markers. */
export function renderChart(spec: ChartSpec): string {
  const height = spec.height ?? 240;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const parts: string[] = [];
  parts.push(`<svg class="chart" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeHtml(spec.label)}">`);
  if (spec.ts.length === 0) {
    parts.push(`<text x="${WIDTH / 2}" y="${height / 2}" text-anchor="middle" class="empty">no data</text></svg>`);
    return parts.join('');
  }
  const minTs = spec.ts[0];
  const maxTs = spec.ts[spec.ts.length - 1];
  const [lo, hi] = extent(spec);
  const x = (ts: number): number => MARGIN.left + (maxTs === minTs ? plotW / 2 : ((ts - minTs) / (maxTs - minTs)) * plotW);
  const y = (v: number): number => MARGIN.top + (1 - (v - lo) / (hi - lo)) * plotH;
  const bottom = MARGIN.top + plotH;

  parts.push(`<g class="grid">`);
  const yTicks = valueTicks(lo, hi);
  const yStep = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1;
  for (const v of yTicks) {
    const yy = round1(y(v));
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${yy}" y2="${yy}"/>`);
    parts.push(`<text class="ytick" x="${MARGIN.left - 6}" y="${yy}" dy="0.32em" text-anchor="end">${escapeHtml(spec.formatValue(v, yStep))}</text>`);
  }
  for (const tick of timeTicks(minTs, maxTs)) {
    const xx = round1(x(tick.ts));
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${MARGIN.top}" y2="${bottom}"/>`);
    parts.push(`<text class="xtick" x="${xx}" y="${bottom + 17}" text-anchor="middle">${escapeHtml(tick.label)}</text>`);
  }
  parts.push(`</g>`);
  parts.push(`<rect class="frame" x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}"/>`);

  if (spec.band) {
    const upper = spec.ts.map((ts, i) => `${round1(x(ts))},${round1(y(spec.band!.high[i]))}`);
    const lower = spec.ts.map((ts, i) => `${round1(x(ts))},${round1(y(spec.band!.low[i]))}`).reverse();
    parts.push(`<polygon points="${upper.concat(lower).join(' ')}" fill="${spec.band.color}" stroke="none"/>`);
  }
  if (spec.reference) {
    const yy = round1(y(spec.reference.value));
    parts.push(`<line class="reference" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${yy}" y2="${yy}"/>`);
    parts.push(`<text class="reflabel" x="${WIDTH - MARGIN.right - 4}" y="${yy}" dy="-0.4em" text-anchor="end">${escapeHtml(spec.reference.label)}</text>`);
  }
  for (const line of spec.lines) {
    const points = spec.ts.map((ts, i) => `${round1(x(ts))},${round1(y(line.values[i]))}`);
    if (line.area) {
      const zero = round1(Math.min(Math.max(y(0), MARGIN.top), bottom));
      const first = round1(x(spec.ts[0]));
      const last = round1(x(spec.ts[spec.ts.length - 1]));
      parts.push(`<polygon points="${first},${zero} ${points.join(' ')} ${last},${zero}" fill="${line.color}" fill-opacity="0.25" stroke="none"/>`);
    }
    parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${line.color}" stroke-width="1.4" stroke-linejoin="round"/>`);
  }
  const markers = spec.markers ?? [];
  // Dense fills would paint over the price line; smaller triangles keep it visible.
  const size = markers.length > 1000 ? 3 : markers.length > 200 ? 4 : 5.5;
  for (const m of markers) {
    if (m.ts < minTs || m.ts > maxTs) continue;
    const mx = x(m.ts);
    const my = y(m.price);
    // The triangle's tip sits on the fill price: buys point up from below, sells point down from above.
    const dir = m.side === 'buy' ? 1 : -1;
    const tip = `${round1(mx)},${round1(my)}`;
    const base = `${round1(mx - size)},${round1(my + dir * size * 1.7)} ${round1(mx + size)},${round1(my + dir * size * 1.7)}`;
    const title = `${m.side} ${m.qty} ${m.symbol} @ ${m.price} ${formatTsIso(m.ts)}`;
    parts.push(`<polygon class="${m.side}" points="${tip} ${base}"><title>${escapeHtml(title)}</title></polygon>`);
  }
  parts.push(`</svg>`);
  return parts.join('');
}

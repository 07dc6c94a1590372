/**
 * A plotly figure's line and marker series drawn as a small inline SVG: the
 * light fallback shown where the plotly renderer is missing (nbconvert HTML,
 * GitHub's notebook view, classic Jupyter without the extension), instead of
 * inlining 4.8 MB of plotly.js into every output.
 *
 * It draws only what Leak Lab's figures use: numeric x/y scatter traces with
 * lines (straight or stepped `hv`, solid or dashed) and markers.
 *
 * @module
 */
import { escapeHtml } from "../util/escape_html.ts";

/** A plotly scatter trace, as far as Leak Lab uses it. */
export interface ScatterTrace {
  type: "scatter";
  /** "lines", "markers" or "lines+markers". */
  mode: string;
  name: string;
  x: number[];
  y: number[];
  text?: string[];
  hovertemplate?: string;
  line?: { color?: string; shape?: "linear" | "hv"; dash?: string; width?: number };
  marker?: { color?: string; symbol?: string; size?: number };
  /** 0–1, the whole series. @default 1 */
  opacity?: number;
}

/** A plotly figure: what `application/vnd.plotly.v1+json` carries. */
export interface PlotlyFigure {
  data: ScatterTrace[];
  layout: {
    title?: { text: string };
    xaxis?: { title?: { text: string }; [key: string]: unknown };
    yaxis?: { title?: { text: string }; [key: string]: unknown };
    [key: string]: unknown;
  };
}

/** Options for {@linkcode svgChart}. */
export interface SvgChartOptions {
  /** @default 640 */
  width?: number;
  /** @default 260 */
  height?: number;
}

const PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2"];
const MARGIN = { top: 44, right: 16, bottom: 36, left: 56 };

/**
 * Draws the figure as a self-contained `<svg>` element (no scripts, no fonts to fetch).
 *
 * @example
 * ```ts
 * import { svgChart } from "./svg_chart.ts";
 * const svg = svgChart({
 *   data: [{ type: "scatter", mode: "lines", name: "active", x: [1, 2, 3], y: [1, 2, 1] }],
 *   layout: { title: { text: "Pool" } },
 * });
 * console.log(svg.startsWith("<svg")); // true
 * ```
 */
export function svgChart(figure: PlotlyFigure, options: SvgChartOptions = {}): string {
  const width = options.width ?? 640;
  const height = options.height ?? 260;
  const xs = figure.data.flatMap((t) => t.x);
  const ys = figure.data.flatMap((t) => t.y);
  const xMin = Math.min(...xs); // from the first point: no empty lead-in before request 1
  const xMax = Math.max(...xs) > xMin ? Math.max(...xs) : xMin + 1;
  const yMax = Math.max(...ys, 1);
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => MARGIN.top + plotH - (y / yMax) * plotH;
  const parts: string[] = [];

  for (const tick of ticks(0, yMax)) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${py(tick)}" y2="${py(tick)}" stroke="#e5e7eb"/>`,
      `<text x="${MARGIN.left - 6}" y="${py(tick) + 4}" text-anchor="end">${tick}</text>`,
    );
  }
  for (const tick of ticks(xMin, xMax)) {
    parts.push(`<text x="${px(tick)}" y="${height - MARGIN.bottom + 16}" text-anchor="middle">${tick}</text>`);
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#6b7280"/>`,
    `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${MARGIN.top + plotH}" y2="${
      MARGIN.top + plotH
    }" stroke="#6b7280"/>`,
  );
  const yTitle = figure.layout.yaxis?.title?.text;
  if (yTitle) {
    const y = MARGIN.top + plotH / 2;
    parts.push(
      `<text x="14" y="${y}" text-anchor="middle" transform="rotate(-90 14 ${y})">${escapeHtml(yTitle)}</text>`,
    );
  }
  const xTitle = figure.layout.xaxis?.title?.text;
  if (xTitle) {
    parts.push(
      `<text x="${MARGIN.left + plotW / 2}" y="${height - 4}" text-anchor="middle">${escapeHtml(xTitle)}</text>`,
    );
  }

  let legendX = MARGIN.left;
  figure.data.forEach((series, index) => {
    const color = series.line?.color ?? series.marker?.color ?? PALETTE[index % PALETTE.length];
    if (series.mode.includes("lines")) {
      const points = series.line?.shape === "hv" ? stepped(series.x, series.y) : zip(series.x, series.y);
      const dash = series.line?.dash && series.line.dash !== "solid" ? ` stroke-dasharray="5 4"` : "";
      const opacity = series.opacity === undefined ? "" : ` stroke-opacity="${series.opacity}"`;
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="${series.line?.width ?? 2}"${dash}${opacity} ` +
          `stroke-linejoin="round" points="${
            points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ")
          }"/>`,
      );
    }
    if (series.mode.includes("markers")) {
      series.x.forEach((x, i) => parts.push(marker(px(x), py(series.y[i]), color, series.marker?.symbol)));
    }
    parts.push(
      `<rect x="${legendX}" y="${MARGIN.top - 16}" width="10" height="10" fill="${color}"${
        series.opacity === undefined ? "" : ` fill-opacity="${Math.max(series.opacity, 0.5)}"`
      }/>`,
      `<text x="${legendX + 14}" y="${MARGIN.top - 7}">${escapeHtml(series.name)}</text>`,
    );
    legendX += 24 + series.name.length * 6.5;
  });

  const title = figure.layout.title?.text;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="system-ui,sans-serif" font-size="11" fill="#374151" role="img">` +
    (title ? `<title>${escapeHtml(title)}</title>` : "") +
    (title ? `<text x="${MARGIN.left}" y="16" font-size="13" font-weight="600">${escapeHtml(title)}</text>` : "") +
    parts.join("") + `</svg>`;
}

function zip(xs: number[], ys: number[]): [number, number][] {
  return xs.map((x, i) => [x, ys[i]]);
}

/** Points for a step line that holds each value until the next x (plotly's `hv`). */
function stepped(xs: number[], ys: number[]): [number, number][] {
  const out: [number, number][] = [];
  xs.forEach((x, i) => {
    if (i > 0) out.push([x, ys[i - 1]]);
    out.push([x, ys[i]]);
  });
  return out;
}

function marker(x: number, y: number, color: string, symbol = "circle"): string {
  if (symbol === "x") {
    const d = 4;
    return `<path d="M${x - d},${y - d}L${x + d},${y + d}M${x - d},${y + d}L${x + d},${y - d}" stroke="${color}" ` +
      `stroke-width="2.5"/>`;
  }
  return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3.5" fill="${color}"/>`;
}

/** About five round tick values from `min` to `max`. */
function ticks(min: number, max: number): number[] {
  const raw = (max - min) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(6)));
  return out;
}

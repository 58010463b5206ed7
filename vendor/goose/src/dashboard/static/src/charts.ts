// The three line charts: RPS and failures, active users, and average latency,
// which the response time card shows when percentiles over time are off.

import {
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartOptions,
  type LegendItem,
} from "chart.js";
import { requireElement } from "./dom";

Chart.register(
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  CategoryScale,
  Legend,
  Tooltip,
  Filler
);

type LineChart = Chart<"line", number[], string>;

interface ChartColors {
  rps: string;
  fps: string;
  users: string;
  latency: string;
  grid: string;
  tick: string;
  /** The heatmap's percentile lines. */
  percentile: string;
}

let chartRps: LineChart | null = null;
let chartUsers: LineChart | null = null;
let chartLatency: LineChart | null = null;

function isDark(): boolean {
  let dark =
    window.matchMedia &&
    window.matchMedia("(prefers-color-scheme: dark)").matches;
  // If no preference API, assume dark (default CSS is dark).
  if (
    window.matchMedia &&
    !window.matchMedia("(prefers-color-scheme: light)").matches &&
    !window.matchMedia("(prefers-color-scheme: dark)").matches
  ) {
    dark = true;
  }
  return dark;
}

/** The theme, and the tick, grid and percentile line colours the charts use in it. */
export function chartTheme(): { dark: boolean; tick: string; grid: string; percentile: string } {
  const colors = chartColors();
  return {
    dark: isDark(),
    tick: colors.tick,
    grid: colors.grid,
    percentile: colors.percentile,
  };
}

function chartColors(): ChartColors {
  const dark = isDark();
  return {
    rps: dark ? "#3d8bfd" : "#0b5fff",
    fps: dark ? "#f07178" : "#b42318",
    users: dark ? "#3dd68c" : "#0a7a43",
    latency: dark ? "#e6b450" : "#9a6700",
    grid: dark ? "rgba(154, 167, 184, 0.2)" : "rgba(91, 107, 124, 0.2)",
    tick: dark ? "#9aa7b8" : "#5b6b7c",
    percentile: dark ? "#ff8f45" : "#c2410c",
  };

}

/**
 * Gives each legend item its dataset's dash. With usePointStyle, Chart.js
 * styles a legend item from the dataset's points, which have no dash, so the
 * dashed Failures/s line would otherwise get a solid swatch.
 */
export function withLineDash(
  items: LegendItem[],
  datasets: ReadonlyArray<object>
): LegendItem[] {
  for (const item of items) {
    const dataset = (item.datasetIndex == null ? undefined : datasets[item.datasetIndex]) as
      | { borderDash?: unknown }
      | undefined;
    if (dataset && Array.isArray(dataset.borderDash)) {
      item.lineDash = dataset.borderDash as number[];
    }
  }
  return items;
}

export function baseChartOpts(colors: ChartColors): ChartOptions<"line"> {
  // Fresh object per chart so Chart.js cannot share/mutate nested scales.
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: "index", intersect: false },
    plugins: {
      legend: {
        // Each swatch is a line drawn with its dataset's dash, so the legend
        // tells the dashed Failures/s line apart without colour. The width is
        // set because Chart.js otherwise caps a point style swatch at the font
        // size, 11 px, too short to show a 6 on, 4 off dash.
        labels: {
          color: colors.tick,
          boxWidth: 12,
          font: { size: 11 },
          usePointStyle: true,
          pointStyle: "line",
          pointStyleWidth: 30,
          generateLabels: (chart) =>
            withLineDash(
              Chart.defaults.plugins.legend.labels.generateLabels(chart),
              chart.data.datasets
            ),
        },
      },
    },
    scales: {
      x: {
        ticks: {
          color: colors.tick,
          maxTicksLimit: 8,
          font: { size: 10 },
        },
        grid: { color: colors.grid },
      },
      y: {
        beginAtZero: true,
        ticks: { color: colors.tick, font: { size: 10 } },
        grid: { color: colors.grid },
      },
    },
  };
}

/**
 * A per second series without its newest second, which is still filling. A
 * rate there holds a fraction of a second's requests or failures, so the line
 * would end in a drop to near zero on every snapshot. An average there reads
 * low: requests are recorded when they finish, under the second they started
 * in, so that second is still short of its slowest ones.
 */
export function completeSeconds(values: number[]): number[] {
  return values.slice(0, -1);
}

/**
 * The RPS chart's two lines. Failures/s is dashed so the lines differ by more
 * than colour.
 */
export function rpsDatasets(
  colors: ChartColors
): ChartConfiguration<"line", number[], string>["data"]["datasets"] {
  return [
    {
      label: "RPS",
      data: [],
      borderColor: colors.rps,
      backgroundColor: colors.rps,
      borderWidth: 1.5,
      pointRadius: 0,
      tension: 0.15,
    },
    {
      label: "Failures/s",
      data: [],
      borderColor: colors.fps,
      backgroundColor: colors.fps,
      borderWidth: 1.5,
      borderDash: [6, 4],
      pointRadius: 0,
      tension: 0.15,
    },
  ];
}

export function ensureCharts(): void {
  const colors = chartColors();

  if (!chartRps) {
    const config: ChartConfiguration<"line", number[], string> = {
      type: "line",
      data: {
        labels: [],
        datasets: rpsDatasets(colors),
      },
      options: baseChartOpts(colors),
    };
    chartRps = new Chart(requireElement("chart-rps", HTMLCanvasElement), config);
  }
  if (!chartUsers) {
    const config: ChartConfiguration<"line", number[], string> = {
      type: "line",
      data: {
        labels: [],
        datasets: [
          {
            label: "Users",
            data: [],
            borderColor: colors.users,
            backgroundColor: colors.users,
            borderWidth: 1.5,
            pointRadius: 0,
            tension: 0.15,
            fill: false,
          },
        ],
      },
      options: baseChartOpts(colors),
    };
    chartUsers = new Chart(
      requireElement("chart-users", HTMLCanvasElement),
      config
    );
  }
  if (!chartLatency) {
    const config: ChartConfiguration<"line", number[], string> = {
      type: "line",
      data: {
        labels: [],
        datasets: [
          {
            label: "Avg ms",
            data: [],
            borderColor: colors.latency,
            backgroundColor: colors.latency,
            borderWidth: 1.5,
            pointRadius: 0,
            tension: 0.15,
          },
        ],
      },
      options: baseChartOpts(colors),
    };
    chartLatency = new Chart(
      requireElement("chart-latency", HTMLCanvasElement),
      config
    );
  }
}

// Chart.js leaves a chart without a context when its canvas has none (jsdom
// has no canvas, so the client tests run without one), and updating such a
// chart throws; the charts then stay empty, as when Chart.js was a separate
// script that failed to load.
function drawable(chart: LineChart | null): chart is LineChart {
  return chart !== null && chart.ctx != null;
}

/**
 * Draws the charts; the average latency chart only when `averageLatency`
 * (percentiles over time are off and the response time card shows it).
 */
export function updateCharts(series: SeriesWindow, averageLatency: boolean): void {
  ensureCharts();
  const start = series.start_second;
  const rps = series.rps;
  const fps = series.fps;
  const users = series.users;
  const lat = series.avg_latency_ms;
  const len = Math.max(rps.length, fps.length, users.length, lat.length);
  const labels: string[] = [];
  for (let i = 0; i < len; i++) {
    labels.push(String(start + i));
  }

  if (drawable(chartRps)) {
    const rpsComplete = completeSeconds(rps);
    const fpsComplete = completeSeconds(fps);
    chartRps.data.labels = labels.slice(0, Math.max(rpsComplete.length, fpsComplete.length));
    chartRps.data.datasets[0].data = rpsComplete;
    chartRps.data.datasets[1].data = fpsComplete;
    chartRps.update("none");
  }
  if (drawable(chartUsers)) {
    chartUsers.data.labels = labels;
    chartUsers.data.datasets[0].data = users;
    chartUsers.update("none");
  }
  if (averageLatency && drawable(chartLatency)) {
    const latComplete = completeSeconds(lat);
    chartLatency.data.labels = labels.slice(0, latComplete.length);
    chartLatency.data.datasets[0].data = latComplete;
    chartLatency.update("none");
  }
}

/**
 * Sets every colour `baseChartOpts` and the datasets carry to `colors`, the
 * datasets in `lines` order, and redraws the chart. The chart, its data and
 * its other options stay as they are.
 */
function recolor(chart: LineChart | null, colors: ChartColors, lines: string[]): void {
  if (!drawable(chart)) return;
  chart.data.datasets.forEach((dataset, i) => {
    dataset.borderColor = lines[i];
    dataset.backgroundColor = lines[i];
  });
  const options = chart.options;
  const labels = options.plugins && options.plugins.legend && options.plugins.legend.labels;
  if (labels) labels.color = colors.tick;
  const scales = options.scales || {};
  for (const axis of [scales.x, scales.y]) {
    if (!axis) continue;
    if (axis.ticks) axis.ticks.color = colors.tick;
    if (axis.grid) axis.grid.color = colors.grid;
  }
  chart.update("none");
}

/**
 * Recolours the charts for the current theme, in place: their data stays and
 * nothing is rebuilt.
 */
export function recolorCharts(): void {
  const colors = chartColors();
  recolor(chartRps, colors, [colors.rps, colors.fps]);
  recolor(chartUsers, colors, [colors.users]);
  recolor(chartLatency, colors, [colors.latency]);
}

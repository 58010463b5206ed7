//! `stratbench report RUN_DIR`: one self-contained HTML page with the run's figures and
//! plots, written to `RUN_DIR/report.html`.
//!
//! Everything is inline — CSS, and each chart as an `<svg>` element drawn by [`plots`] — so the
//! file opens from disk in any browser, with no server, no script and no network. Per scenario:
//! the latency (or per-operation cost) spectrum summed from the interval logs, as HdrHistogram
//! plots it; throughput and p99 over time with the scenario's events marked; key movement
//! against the ideal; each node's load; each backend's share over time (when the family
//! writes one, in a timeseries column whose name contains `share`, as `fraction;fraction;...`
//! by backend index or `id=fraction;...`); the
//! driver's memory over time; and for a `stratbench sweep`, the latency–throughput curve from
//! `sweep.csv` (p50, p99, p99.9 against achieved rate, a line per strategy and percentile,
//! each capacity step circled). A chart whose data the run does not have is left out.

pub mod plots;

use crate::cli::ReportArgs;
use crate::error::Outcome;
use crate::recorder::Timing;
use crate::rundir::{self, CsvTable, IntervalLog};
use anyhow::Context as _;
use plots::{Marker, Series};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// At most this many backend-share charts per scenario (one per strategy).
const MAX_SHARE_CHARTS: usize = 12;
/// Points per decade of the spectrum's x axis.
const SPECTRUM_STEPS_PER_DECADE: u32 = 20;

/// `stratbench report`.
pub fn command(args: &ReportArgs) -> anyhow::Result<Outcome> {
    let html = render(&args.dir)?;
    let path = args.out.clone().unwrap_or_else(|| args.dir.join("report.html"));
    std::fs::write(&path, html).with_context(|| format!("cannot write {}", path.display()))?;
    println!("report: {}", path.display());
    Ok(Outcome::Ok)
}

/// The files of a run directory.
struct RunData<'a> {
    dir: &'a Path,
    summary: CsvTable,
    timeseries: CsvTable,
    events: CsvTable,
    nodes: CsvTable,
    sweep: CsvTable,
    host: serde_json::Value,
}

/// One line of a scenario's charts: a strategy (and whatever tells apart its variants), with
/// its repetitions.
struct Line {
    label: String,
    /// Summary rows of its repetitions, first repetition first.
    rows: Vec<usize>,
}

/// The HTML page for the run directory `dir`.
pub fn render(dir: &Path) -> anyhow::Result<String> {
    let data = RunData {
        dir,
        summary: rundir::read_summary(dir)?,
        timeseries: rundir::read_optional(dir, "timeseries.csv")?,
        events: rundir::read_optional(dir, "events.csv")?,
        nodes: rundir::read_optional(dir, "nodes.csv")?,
        sweep: rundir::read_optional(dir, "sweep.csv")?,
        host: std::fs::read(dir.join("host.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null),
    };
    let mut html = String::new();
    head(&mut html, &data);
    summary_table(&mut html, &data);
    for (scenario, rows) in scenarios(&data.summary) {
        scenario_section(&mut html, &data, &scenario, &rows)?;
    }
    html.push_str("</body>\n</html>\n");
    Ok(html)
}

fn scenarios(summary: &CsvTable) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, row) in summary.rows.iter().enumerate() {
        let name = summary.get(row, "scenario").to_string();
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, rows)) => rows.push(i),
            None => out.push((name, vec![i])),
        }
    }
    out
}

/// The lines of a scenario: runs grouped by identity, labelled by strategy plus the identity
/// columns that differ between runs of the same strategy.
fn lines(summary: &CsvTable, rows: &[usize]) -> Vec<Line> {
    let mut groups: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for i in rows {
        let identity = summary.identity(&summary.rows[*i]);
        match groups.iter_mut().find(|(id, _)| *id == identity) {
            Some((_, members)) => members.push(*i),
            None => groups.push((identity, vec![*i])),
        }
    }
    let strategy = rundir::IDENTITY_COLUMNS.iter().position(|c| *c == "strategy").unwrap_or(2);
    groups
        .iter()
        .map(|(id, members)| {
            let siblings: Vec<&Vec<String>> =
                groups.iter().map(|(other, _)| other).filter(|other| other[strategy] == id[strategy]).collect();
            let extra: Vec<String> = (0..id.len())
                .filter(|c| siblings.iter().any(|s| s[*c] != id[*c]))
                .map(|c| format!("{}={}", rundir::IDENTITY_COLUMNS[c], id[c]))
                .collect();
            let label = if extra.is_empty() {
                id[strategy].clone()
            } else {
                format!("{} ({})", id[strategy], extra.join(", "))
            };
            Line { label, rows: members.clone() }
        })
        .collect()
}

fn head(html: &mut String, data: &RunData<'_>) {
    let title = format!("stratbench report: {}", data.dir.display());
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    let host = &data.host;
    let field =
        |name: &str| host[name].as_str().map(String::from).or_else(|| host[name].as_u64().map(|v| v.to_string()));
    let mut facts = Vec::new();
    for (label, name) in [
        ("host", "hostname"),
        ("CPU", "cpu_model"),
        ("logical cores", "cpu_cores_logical"),
        ("OS", "os"),
        ("commit", "git_commit"),
        ("stratbench", "stratbench_version"),
        ("started", "started_at"),
        ("driver", "driver_id"),
    ] {
        if let Some(value) = field(name) {
            facts.push(format!("<b>{label}</b> {}", escape(&value)));
        }
    }
    if let Some(command) = host["command_line"].as_array() {
        let words: Vec<&str> = command.iter().filter_map(|w| w.as_str()).collect();
        facts.push(format!("<b>command</b> <code>{}</code>", escape(&words.join(" "))));
    }
    let _ = writeln!(html, "<p class=\"meta\">{}</p>", facts.join(" · "));
}

/// The summary, one line per run, with the figures a reader looks at first.
fn summary_table(html: &mut String, data: &RunData<'_>) {
    const COLUMNS: [(&str, &str); 12] = [
        ("scenario", "scenario"),
        ("strategy", "strategy"),
        ("mode", "mode"),
        ("repeat", "rep."),
        ("status", "status"),
        ("throughput_ops_s", "ops/s"),
        ("latency_us_p50", "p50 µs"),
        ("latency_us_p99", "p99 µs"),
        ("latency_us_p999", "p99.9 µs"),
        ("op_cost_ns_p50", "p50 ns/op"),
        ("keys_moved_ratio", "moved/ideal"),
        ("load_peak_to_mean", "load peak/mean"),
    ];
    let table = &data.summary;
    let used: Vec<&(&str, &str)> =
        COLUMNS.iter().filter(|(c, _)| table.rows.iter().any(|r| !table.get(r, c).is_empty())).collect();
    html.push_str("<h2>Summary</h2>\n<table class=\"summary\">\n<tr>");
    for (_, title) in &used {
        let _ = write!(html, "<th>{}</th>", escape(title));
    }
    html.push_str("</tr>\n");
    for row in &table.rows {
        html.push_str("<tr>");
        for (column, _) in &used {
            let value = table.get(row, column);
            let shown = value
                .parse::<f64>()
                .ok()
                .filter(|_| !matches!(*column, "repeat"))
                .map_or_else(|| value.to_string(), plots::human);
            let _ = write!(html, "<td>{}</td>", escape(&shown));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
}

fn scenario_section(html: &mut String, data: &RunData<'_>, scenario: &str, rows: &[usize]) -> anyhow::Result<()> {
    let table = &data.summary;
    let first = &table.rows[rows[0]];
    let lines = lines(table, rows);
    let _ = writeln!(
        html,
        "<section class=\"scenario\" data-scenario=\"{}\">\n<h2>{} <small>{}</small></h2>",
        escape(scenario),
        escape(scenario),
        escape(table.get(first, "family"))
    );
    let facts: Vec<String> = ["loop", "workers", "target_rate_ops_s", "keys", "dist", "nodes", "events", "params"]
        .iter()
        .filter(|c| !table.get(first, c).is_empty())
        .map(|c| format!("<b>{c}</b> {}", escape(table.get(first, c))))
        .collect();
    let _ = writeln!(html, "<p class=\"meta\">{}</p>", facts.join(" · "));
    sweep_chart(html, data, scenario)?;
    let labels: Vec<String> = lines.iter().map(|l| l.label.clone()).collect();
    let batch = table.get(first, "timing") == "batch";
    if let Some(svg) = spectrum_chart(data, &lines, batch)? {
        figure(
            html,
            "spectrum",
            &svg,
            &labels,
            "Percentiles of every measured operation, all repetitions added (HdrHistogram interval logs).",
        );
    }
    let markers = event_markers(data, rows);
    let (p99_column, p99_unit) = if batch { ("op_cost_ns_p99", "ns per operation") } else { ("latency_us_p99", "µs") };
    for (kind, column, title, unit) in [
        ("throughput", "throughput_ops_s", "Throughput over time", "operations/s"),
        ("p99", p99_column, "p99 over time", p99_unit),
        ("driver-memory", "driver_rss_bytes", "Driver memory (resident set) over time", "bytes"),
    ] {
        let series = time_series(data, &lines, column);
        if series.iter().any(|s| !s.points.is_empty()) {
            let svg = plots::over_time(title, unit, &series, &markers)?;
            figure(
                html,
                kind,
                &svg,
                &labels,
                "First repetition of each strategy; red lines are the scenario's events.",
            );
        }
    }
    movement_chart(html, data, &lines)?;
    node_load_chart(html, data, &lines)?;
    share_charts(html, data, &lines)?;
    html.push_str("</section>\n");
    Ok(())
}

/// The latency–throughput curve of the scenario's sweep steps in `sweep.csv`, if it has any:
/// p50, p99 and p99.9 of every strategy against the achieved rate, the capacity steps
/// circled, the objective's bound dashed when it is a latency in the shown percentiles.
fn sweep_chart(html: &mut String, data: &RunData<'_>, scenario: &str) -> anyhow::Result<()> {
    let table = &data.sweep;
    let steps: Vec<&Vec<String>> = table.rows.iter().filter(|r| table.get(r, "scenario") == scenario).collect();
    let mut strategies: Vec<&str> = Vec::new();
    for row in &steps {
        let name = table.get(row, "strategy");
        if !strategies.contains(&name) {
            strategies.push(name);
        }
    }
    let mut series = Vec::new();
    let mut knees = Vec::new();
    for strategy in &strategies {
        // An overloaded step did not keep its schedule: its latencies describe another load
        // than its rate's, so it is left off the curve.
        let mut rows: Vec<&&Vec<String>> =
            steps.iter().filter(|r| table.get(r, "strategy") == *strategy && table.get(r, "status") == "ok").collect();
        rows.sort_by(|a, b| {
            table
                .num(a, "achieved_rate_ops_s")
                .unwrap_or(0.0)
                .total_cmp(&table.num(b, "achieved_rate_ops_s").unwrap_or(0.0))
        });
        for percentile in ["p50", "p99", "p999"] {
            let column = format!("latency_us_{percentile}");
            let points = rows
                .iter()
                .filter_map(|r| Some((table.num(r, "achieved_rate_ops_s")?, table.num(r, &column)?)))
                .collect();
            series.push(Series { name: format!("{strategy} {}", percentile.replace("p999", "p99.9")), points });
        }
        let knee = rows.iter().find(|r| table.get(r, "knee") == "true");
        knees.extend(
            knee.and_then(|r| Some((table.num(r, "achieved_rate_ops_s")?, table.num(r, "slo_percentile_us")?))),
        );
    }
    if series.iter().all(|s| s.points.is_empty()) {
        return Ok(());
    }
    let objective = steps.first().map_or("", |r| table.get(r, "slo"));
    let bound_us = objective_bound_us(objective);
    let svg = plots::latency_vs_rate(
        &format!("Latency against achieved rate, objective {objective}"),
        &series,
        &knees,
        bound_us,
    )?;
    let labels: Vec<String> = series.iter().map(|s| s.name.clone()).collect();
    let caption = "stratbench sweep: every step of every strategy that kept its schedule (sweep.csv; overloaded steps are left off); circled, the step that defines each capacity (the highest rate that held the objective); dashed, the objective's bound.";
    figure(html, "latency-throughput", &svg, &labels, caption);
    Ok(())
}

/// The latency bound of an objective as `sweep.csv` writes it (`p99<10ms,errors<1%`), in µs.
fn objective_bound_us(objective: &str) -> Option<f64> {
    workloads::sweep::Objective::parse(objective).ok().map(|o| o.bound.as_secs_f64() * 1e6)
}

fn figure(html: &mut String, kind: &str, svg: &str, labels: &[String], caption: &str) {
    let legend: String = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            format!("<span class=\"key\"><i style=\"background:{}\"></i>{}</span>", plots::color_hex(i), escape(l))
        })
        .collect();
    let _ = writeln!(
        html,
        "<figure class=\"plot\" data-plot=\"{kind}\">\n{svg}\n<figcaption><div class=\"legend\">{legend}</div>{}</figcaption>\n</figure>",
        escape(caption)
    );
}

/// The spectrum of each line, from the sum of its repetitions' interval histograms.
fn spectrum_chart(data: &RunData<'_>, lines: &[Line], batch: bool) -> anyhow::Result<Option<String>> {
    let mut series = Vec::new();
    for line in lines {
        let mut total = crate::recorder::new_histogram();
        for i in &line.rows {
            let run_id = data.summary.get(&data.summary.rows[*i], "run_id");
            let path = data.dir.join("hlog").join(format!("{run_id}.hlog"));
            if path.is_file() {
                rundir::add(&mut total, &IntervalLog::read(&path)?.total().response);
            }
        }
        series.push(Series { name: line.label.clone(), points: spectrum_points(&total) });
    }
    if series.iter().all(|s| s.points.is_empty()) {
        return Ok(None);
    }
    let (title, unit) = if batch {
        ("Cost per operation by percentile", "ns per operation")
    } else {
        ("Latency by percentile", "latency (µs)")
    };
    plots::spectrum(title, unit, &series).map(Some)
}

/// (1/(1-p), value at p) for p from 0 up to the resolution of the count, then the maximum;
/// values in the unit of the CSV columns (µs, or ns per operation of batches).
pub fn spectrum_points(histogram: &hdrhistogram::Histogram<u64>) -> Vec<(f64, f64)> {
    if histogram.is_empty() {
        return Vec::new();
    }
    let limit = (histogram.len() as f64).max(10.0);
    let mut points = Vec::new();
    for step in 0.. {
        let x = 10f64.powf(f64::from(step) / f64::from(SPECTRUM_STEPS_PER_DECADE));
        if x > limit {
            break;
        }
        points.push((x, Timing::column_value(histogram.value_at_quantile(1.0 - 1.0 / x))));
    }
    points.push((limit, Timing::column_value(histogram.max())));
    points
}

/// `column` over time for each line's first repetition.
fn time_series(data: &RunData<'_>, lines: &[Line], column: &str) -> Vec<Series> {
    let series = &data.timeseries;
    lines
        .iter()
        .map(|line| {
            let run_id = data.summary.get(&data.summary.rows[line.rows[0]], "run_id");
            let points = series
                .rows
                .iter()
                .filter(|r| series.get(r, "run_id") == run_id)
                .filter_map(|r| {
                    let start = series.num(r, "interval_start_s")?;
                    let length = series.num(r, "interval_s").unwrap_or(0.0);
                    Some((start + length / 2.0, series.num(r, column)?))
                })
                .collect();
            Series { name: line.label.clone(), points }
        })
        .collect()
}

/// The events of the scenario's first run that has any, as markers.
fn event_markers(data: &RunData<'_>, rows: &[usize]) -> Vec<Marker> {
    let events = &data.events;
    for i in rows {
        let run_id = data.summary.get(&data.summary.rows[*i], "run_id");
        let markers: Vec<Marker> = events
            .rows
            .iter()
            .filter(|r| events.get(r, "run_id") == run_id)
            .filter_map(|r| {
                Some(Marker { at: events.num(r, "fired_at_s")?, label: events.get(r, "event").to_string() })
            })
            .collect();
        if !markers.is_empty() {
            return markers;
        }
    }
    Vec::new()
}

/// Key movement of each line's first ok repetition: moved against the ideal, summed over the
/// run's resize events.
fn movement_chart(html: &mut String, data: &RunData<'_>, lines: &[Line]) -> anyhow::Result<()> {
    let table = &data.summary;
    let value = |line: &Line, column: &str| line.rows.iter().find_map(|i| table.num(&table.rows[*i], column));
    let moved: Vec<Option<f64>> = lines.iter().map(|l| value(l, "keys_moved_fraction")).collect();
    if moved.iter().all(Option::is_none) {
        return Ok(());
    }
    let ideal: Vec<Option<f64>> = lines.iter().map(|l| value(l, "keys_moved_ideal_fraction")).collect();
    let labels: Vec<String> = lines.iter().map(|l| l.label.clone()).collect();
    let groups = vec![("moved".to_string(), moved), ("ideal".to_string(), ideal)];
    let svg =
        plots::bars("Keys moved by the resize events (summed)", "fraction of the key set", &labels, &groups, None)?;
    figure(
        html,
        "key-movement",
        &svg,
        &["moved".into(), "ideal (least possible)".into()],
        "Fraction of keys whose owner changed, against the least any strategy must move.",
    );
    Ok(())
}

/// Each node's share of the keys over its fair share (1.0), per line's first repetition.
fn node_load_chart(html: &mut String, data: &RunData<'_>, lines: &[Line]) -> anyhow::Result<()> {
    let nodes = &data.nodes;
    let mut labels = Vec::new();
    let mut values = Vec::new();
    for line in lines {
        let run_id = data.summary.get(&data.summary.rows[line.rows[0]], "run_id");
        let shares: Vec<f64> = nodes
            .rows
            .iter()
            .filter(|r| nodes.get(r, "run_id") == run_id)
            .filter_map(|r| nodes.num(r, "keys_share"))
            .collect();
        if !shares.is_empty() {
            let fair = 1.0 / shares.len() as f64;
            values.push(shares.iter().map(|s| s / fair).collect::<Vec<_>>());
            labels.push(line.label.clone());
        }
    }
    if values.is_empty() {
        return Ok(());
    }
    let svg = plots::strip(
        "Per-node load at the start",
        "share of the keys over the fair share (1.0)",
        &labels,
        &values,
        Some(1.0),
    )?;
    figure(html, "node-load", &svg, &labels, "One dot per node; the line is a perfectly even split.");
    Ok(())
}

/// Backend shares over time, from a timeseries column whose name contains `share` and whose
/// cells read `id=fraction;id=fraction` (the balancing family's), one chart per line.
fn share_charts(html: &mut String, data: &RunData<'_>, lines: &[Line]) -> anyhow::Result<()> {
    let series = &data.timeseries;
    let Some(column) = series.header.iter().find(|c| c.contains("share")).cloned() else { return Ok(()) };
    for line in lines.iter().take(MAX_SHARE_CHARTS) {
        let run_id = data.summary.get(&data.summary.rows[line.rows[0]], "run_id");
        let mut backends: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for row in series.rows.iter().filter(|r| series.get(r, "run_id") == run_id) {
            let Some(start) = series.num(row, "interval_start_s") else { continue };
            let at = start + series.num(row, "interval_s").unwrap_or(0.0) / 2.0;
            for (backend, share) in parse_shares(series.get(row, &column)) {
                backends.entry(backend).or_default().push((at, share));
            }
        }
        if backends.is_empty() {
            continue;
        }
        let lines: Vec<Series> = backends.into_iter().map(|(name, points)| Series { name, points }).collect();
        let labels: Vec<String> = lines.iter().map(|s| format!("backend {}", s.name)).collect();
        let title = format!("Each backend's share of requests: {}", line.label);
        let svg = plots::over_time(&title, "share of requests", &lines, &[])?;
        figure(html, "backend-share", &svg, &labels, &format!("From the `{column}` column of timeseries.csv."));
    }
    Ok(())
}

/// `0.25;0.75` (backend = position, as the balancing family writes them), or `a=0.25;b=0.75`
/// (`a:0.25`), as (backend, share) pairs; anything else is skipped.
pub fn parse_shares(cell: &str) -> Vec<(String, f64)> {
    cell.split([';', ' ', ','])
        .filter(|item| !item.trim().is_empty())
        .enumerate()
        .filter_map(|(position, item)| {
            let (name, value) = match item.split_once('=').or_else(|| item.split_once(':')) {
                Some((name, value)) => (name.trim().to_string(), value),
                None => (position.to_string(), item),
            };
            Some((name, value.trim().parse().ok()?))
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em auto;max-width:1100px;color:#222}\
h1{font-size:1.4em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em}h2 small{color:#777;font-weight:normal}\
.meta{color:#555;font-size:.9em;line-height:1.5}\
table.summary{border-collapse:collapse;font-size:.85em}table.summary td,table.summary th{border:1px solid #ddd;padding:2px 6px;text-align:right}\
table.summary td:nth-child(-n+3){text-align:left}\
figure.plot{margin:1em 0}figure.plot svg{max-width:100%;height:auto;border:1px solid #eee}\
figcaption{font-size:.85em;color:#444}.legend{margin:.3em 0}.key{display:inline-block;margin-right:1em}\
.key i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_parse_leniently() {
        assert_eq!(parse_shares("0=0.25;1=0.75"), vec![("0".to_string(), 0.25), ("1".to_string(), 0.75)]);
        assert_eq!(parse_shares("a:0.5"), vec![("a".to_string(), 0.5)]);
        assert_eq!(parse_shares("0.1000;0.9000"), vec![("0".to_string(), 0.1), ("1".to_string(), 0.9)]);
        assert!(parse_shares("").is_empty());
    }

    /// A family that records each backend's share per interval gets one chart per strategy,
    /// one line per backend; the other charts need their own files and are left out.
    #[test]
    fn backend_shares_over_time_are_plotted_when_present() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("summary.csv"),
            "run_id,scenario,family,strategy,mode,status,repeat\nr1,lb,balancing,p2c,inproc,ok,1\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("timeseries.csv"),
            "run_id,phase,interval_index,interval_start_s,interval_s,throughput_ops_s,backend_shares\n\
             r1,measure,0,0,1,100,0=0.5;1=0.3;2=0.2\nr1,measure,1,1,1,100,0=0.4;1=0.4;2=0.2\n",
        )
        .unwrap();
        let html = render(dir.path()).unwrap();
        assert!(html.contains("data-plot=\"backend-share\""), "{html}");
        assert!(html.contains("backend 2") && html.contains("share of requests: p2c"));
        assert!(html.contains("data-plot=\"throughput\""));
        assert!(!html.contains("data-plot=\"spectrum\"") && !html.contains("data-plot=\"node-load\""));
    }

    #[test]
    fn spectrum_reaches_the_tail_and_the_maximum() {
        let mut histogram = crate::recorder::new_histogram();
        for v in 1..=10_000u64 {
            histogram.record(v).unwrap();
        }
        let points = spectrum_points(&histogram);
        // Values in the columns' unit: the histogram's nanoseconds over 1000.
        assert_eq!(points[0], (1.0, histogram.value_at_quantile(0.0) as f64 / 1000.0));
        let last = points.last().unwrap();
        assert_eq!(last.1, histogram.max() as f64 / 1000.0);
        assert!(points.iter().any(|(x, v)| (*x - 100.0).abs() < 1e-6 && (*v - 9.9).abs() < 0.01), "p99 point");
        assert!(points.windows(2).all(|w| w[0].1 <= w[1].1), "monotone");
    }
}

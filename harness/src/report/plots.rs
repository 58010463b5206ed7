//! The report's charts, drawn as SVG text with plotters: plain data in, an `<svg>` element
//! out, so the page embeds them inline and opens with no server and no script.
//!
//! Legends are left to the page (HTML next to the chart, same colours from [`color`]): a
//! scenario can have a dozen strategies, and a legend box inside the plot would hide the
//! lines. Text is laid out by the browser (plotters' SVG backend writes `<text>` elements),
//! so no font is needed at build or run time.

use plotters::coord::Shift;
use plotters::prelude::*;

/// Size of every chart, in pixels.
const SIZE: (u32, u32) = (860, 380);
/// Width kept for category names on the left of horizontal charts.
const NAME_AREA_PX: u32 = 140;
const FONT: &str = "sans-serif";

/// A named line: (x, y) points in drawing order.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A vertical marker on a time axis (an event).
#[derive(Clone, Debug)]
pub struct Marker {
    pub at: f64,
    pub label: String,
}

/// The colour of the `i`-th series, as plotters draws it.
pub fn color(i: usize) -> RGBColor {
    let (r, g, b) = Palette99::pick(i).rgb();
    RGBColor(r, g, b)
}

/// The colour of the `i`-th series as `#rrggbb`, for the page's legend.
pub fn color_hex(i: usize) -> String {
    let RGBColor(r, g, b) = color(i);
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn plot_error<E: std::fmt::Debug>(error: E) -> anyhow::Error {
    anyhow::anyhow!("cannot draw a chart: {error:?}")
}

/// Draws with `draw` on a fresh white SVG canvas and returns the SVG text.
fn svg(draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> anyhow::Result<()>) -> anyhow::Result<String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw(&root)?;
        root.present().map_err(plot_error)?;
    }
    Ok(text)
}

/// A chart builder with the report's title, margins and axis label areas.
fn titled<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
    y_label_area_px: u32,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(root);
    builder.caption(title, (FONT, 17)).margin(12).x_label_area_size(42).y_label_area_size(y_label_area_px);
    builder
}

/// Draws each series as a line in its colour.
fn draw_lines<X, Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    series: &[Series],
) -> anyhow::Result<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (i, s) in series.iter().enumerate() {
        chart.draw_series(LineSeries::new(s.points.iter().copied(), color(i).stroke_width(2))).map_err(plot_error)?;
    }
    Ok(())
}

fn max_y(series: &[Series]) -> f64 {
    let max = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0, f64::max);
    if max > 0.0 { max * 1.08 } else { 1.0 }
}

/// The latency spectrum as HdrHistogram plots it: x = 1/(1-percentile) on a log scale, so that
/// the median, p90, p99, p99.9... are evenly spaced and the tail gets the room it deserves.
/// `series` points are (1/(1-p), value).
pub fn spectrum(title: &str, y_desc: &str, series: &[Series]) -> anyhow::Result<String> {
    let x_max = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).fold(10.0, f64::max);
    let y_max = max_y(series);
    svg(|root| {
        let mut chart =
            titled(root, title, 70).build_cartesian_2d((1f64..x_max).log_scale(), 0f64..y_max).map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc(y_desc)
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|y| human(*y))
            .draw()
            .map_err(plot_error)?;
        draw_lines(&mut chart, series)
    })
}

/// `x` = 1/(1-p) as the percentile p: 10 → "90%", 1000 → "99.9%".
pub fn percentile_label(x: f64) -> String {
    if x <= 1.0 {
        return "0%".into();
    }
    let percent = 100.0 * (1.0 - 1.0 / x);
    let nines = x.log10().round().max(0.0) as usize;
    format!("{percent:.prec$}%", prec = nines.saturating_sub(2))
}

/// Lines over time, with events as labelled vertical lines.
pub fn over_time(title: &str, y_desc: &str, series: &[Series], markers: &[Marker]) -> anyhow::Result<String> {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).chain(markers.iter().map(|m| m.at));
    let (x_min, x_max) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let (x_min, x_max) = if x_min < x_max { (x_min, x_max) } else { (0.0, 1.0) };
    // Room on the right for the label of an event at the very end.
    let x_max = x_max + (x_max - x_min) * 0.08;
    let y_max = max_y(series);
    svg(|root| {
        let mut chart = titled(root, title, 70).build_cartesian_2d(x_min..x_max, 0f64..y_max).map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("seconds from the start of the measured phase (negative: warm-up)")
            .y_desc(y_desc)
            .y_label_formatter(&|y| human(*y))
            .draw()
            .map_err(plot_error)?;
        for (i, marker) in markers.iter().enumerate() {
            let style = RED.mix(0.7).stroke_width(1);
            chart
                .draw_series(std::iter::once(PathElement::new(vec![(marker.at, 0.0), (marker.at, y_max)], style)))
                .map_err(plot_error)?;
            // Stagger labels so that close events stay readable.
            let y = y_max * (0.97 - 0.06 * (i % 4) as f64);
            let text = Text::new(marker.label.clone(), (marker.at, y), (FONT, 11).into_font().color(&RED));
            chart.draw_series(std::iter::once(text)).map_err(plot_error)?;
        }
        draw_lines(&mut chart, series)
    })
}

/// Latency against achieved rate, the curve a sweep draws: one line per series (a strategy's
/// percentile), its points (rate in operations/s, latency in µs) in rate order, on a log
/// latency axis (a broken step's p99 is seconds where a held one's is milliseconds); each
/// `knees` point (a strategy's capacity step) circled, and `bound_us` (the objective) as a
/// dashed horizontal line.
pub fn latency_vs_rate(
    title: &str,
    series: &[Series],
    knees: &[(f64, f64)],
    bound_us: Option<f64>,
) -> anyhow::Result<String> {
    let points = || series.iter().flat_map(|s| s.points.iter().copied());
    let x_max = points().map(|p| p.0).fold(1.0, f64::max) * 1.05;
    let y_values = points().map(|p| p.1).chain(bound_us).filter(|y| *y > 0.0);
    let (y_min, y_max) = y_values.fold((f64::INFINITY, 1.0f64), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let y_min = if y_min.is_finite() { y_min / 1.5 } else { 1.0 };
    svg(|root| {
        let mut chart = titled(root, title, 70)
            .build_cartesian_2d(0f64..x_max, (y_min..y_max * 1.5).log_scale())
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("achieved rate, operations/s")
            .y_desc("latency, µs (log)")
            .x_label_formatter(&|x| human(*x))
            .y_label_formatter(&|y| human(*y))
            .draw()
            .map_err(plot_error)?;
        if let Some(bound) = bound_us {
            let style = RED.mix(0.7).stroke_width(1);
            chart
                .draw_series(DashedLineSeries::new([(0.0, bound), (x_max, bound)], 6, 4, style))
                .map_err(plot_error)?;
        }
        draw_lines(&mut chart, series)?;
        let circles = knees.iter().map(|k| Circle::new(*k, 7, BLACK.stroke_width(2)));
        chart.draw_series(circles).map_err(plot_error)?;
        Ok(())
    })
}

/// Horizontal bars, one row per category, one bar per group (`groups[g].1[c]` is the value of
/// group `g` for category `c`), with an optional vertical reference line.
pub fn bars(
    title: &str,
    x_desc: &str,
    categories: &[String],
    groups: &[(String, Vec<Option<f64>>)],
    reference: Option<f64>,
) -> anyhow::Result<String> {
    let x_max = groups.iter().flat_map(|g| g.1.iter().flatten()).copied().chain(reference).fold(0.0, f64::max);
    let x_max = if x_max > 0.0 { x_max * 1.08 } else { 1.0 };
    let rows = categories.len().max(1);
    let band = 0.8 / groups.len().max(1) as f64;
    svg(|root| {
        let mut chart = category_chart(root, title, x_desc, categories, x_max)?;
        for (g, (_, values)) in groups.iter().enumerate() {
            let style = color(g).filled();
            let rects = values.iter().enumerate().filter_map(|(c, v)| {
                let y = (rows - 1 - c) as f64 + 0.4 - band * g as f64;
                v.map(|v| Rectangle::new([(0.0, y - band * 0.9), (v, y)], style))
            });
            chart.draw_series(rects).map_err(plot_error)?;
        }
        draw_reference(&mut chart, reference, rows)
    })
}

/// A strip chart: one row per category, one dot per value (for example each node's load), with
/// an optional vertical reference line.
pub fn strip(
    title: &str,
    x_desc: &str,
    categories: &[String],
    values: &[Vec<f64>],
    reference: Option<f64>,
) -> anyhow::Result<String> {
    let x_max = values.iter().flatten().copied().chain(reference).fold(0.0, f64::max);
    let x_max = if x_max > 0.0 { x_max * 1.08 } else { 1.0 };
    let rows = categories.len().max(1);
    svg(|root| {
        let mut chart = category_chart(root, title, x_desc, categories, x_max)?;
        for (c, row) in values.iter().enumerate() {
            let style = color(c).mix(0.7).filled();
            // Spread the dots of a row a little vertically (deterministically) so that equal
            // values stay visible.
            let dots = row.iter().enumerate().map(|(i, v)| {
                let y = (rows - 1 - c) as f64 + ((i % 7) as f64 - 3.0) * 0.05;
                Circle::new((*v, y), 3, style)
            });
            chart.draw_series(dots).map_err(plot_error)?;
        }
        draw_reference(&mut chart, reference, rows)
    })
}

type CategoryChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// A chart with a numeric x axis and one named row per category (first category on top).
fn category_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
    x_desc: &str,
    categories: &[String],
    x_max: f64,
) -> anyhow::Result<CategoryChart<'a, 'b>> {
    let rows = categories.len().max(1);
    let mut chart = titled(root, title, NAME_AREA_PX)
        .build_cartesian_2d(0f64..x_max, -0.5f64..(rows as f64 - 0.5))
        .map_err(plot_error)?;
    let name_of = |y: &f64| {
        let index = y.round();
        if (y - index).abs() > 1e-6 || index < 0.0 || index as usize >= rows {
            return String::new();
        }
        categories.get(rows - 1 - index as usize).cloned().unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows * 2 + 2)
        .y_label_formatter(&name_of)
        .x_desc(x_desc)
        .x_label_formatter(&|x| human(*x))
        .draw()
        .map_err(plot_error)?;
    Ok(chart)
}

fn draw_reference(chart: &mut CategoryChart<'_, '_>, reference: Option<f64>, rows: usize) -> anyhow::Result<()> {
    if let Some(x) = reference {
        let line = PathElement::new(vec![(x, -0.5), (x, rows as f64 - 0.5)], BLACK.mix(0.6).stroke_width(1));
        chart.draw_series(std::iter::once(line)).map_err(plot_error)?;
    }
    Ok(())
}

/// 1234567 → "1.23M", 0.25 → "0.25".
pub fn human(value: f64) -> String {
    let magnitude = value.abs();
    let (scaled, suffix) = match magnitude {
        m if m >= 1e9 => (value / 1e9, "G"),
        m if m >= 1e6 => (value / 1e6, "M"),
        m if m >= 1e4 => (value / 1e3, "k"),
        _ => (value, ""),
    };
    let text = format!("{scaled:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_axis_labels() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(100_000.0), "99.999%");
    }

    #[test]
    fn charts_are_svg_with_their_lines() {
        let series = vec![Series { name: "a".into(), points: vec![(0.0, 1.0), (1.0, 2.0), (2.0, 1.5)] }];
        let marker = Marker { at: 1.0, label: "add-node".into() };
        let text = over_time("t", "ops/s", &series, &[marker]).unwrap();
        assert!(text.starts_with("<svg") && text.contains("<polyline") && text.contains("add-node"), "{text}");
        let text = bars(
            "b",
            "fraction",
            &["ring".into(), "jump".into()],
            &[("moved".into(), vec![Some(0.1), None])],
            Some(1.0),
        )
        .unwrap();
        assert!(text.contains("<rect") && text.contains("ring") && text.contains("jump"), "{text}");
        let text = strip("s", "load", &["ring".into()], &[vec![0.9, 1.1]], Some(1.0)).unwrap();
        assert!(text.contains("<circle"), "{text}");
        let spectrum =
            spectrum("p", "us", &[Series { name: "a".into(), points: vec![(1.0, 5.0), (100.0, 50.0)] }]).unwrap();
        assert!(spectrum.contains("99%"), "{spectrum}");
    }

    #[test]
    fn human_numbers() {
        assert_eq!(human(1_234_567.0), "1.235M");
        assert_eq!(human(0.25), "0.25");
        assert_eq!(human(12_000.0), "12k");
        assert_eq!(human(500.0), "500");
    }
}

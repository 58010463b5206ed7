//! `stratbench report` on a real run, rendered in a real browser: headless Chromium (Debian's
//! `chromium`, which scripts/test.sh installs when missing) opens `report.html` from disk,
//! with networking disabled, and a probe script added to a copy of the page measures every
//! chart as laid out: each `<svg>` has a size and holds its lines, bars or dots.
//!
//! Set `STRATBENCH_SKIP_BROWSER=1` to skip the browser part on a machine without Chromium.

mod common;

use common::{stratbench, text};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCENARIO: &str = r#"
[defaults]
duration = "600ms"
warmup = "100ms"
interval = "100ms"
seed = 3

[[scenario]]
name = "plot-hashing"
family = "hashing"
strategies = ["modulo", "ring", "jump", "maglev"]
nodes = 8
keys = 50_000
[[scenario.events]]
at = "200ms"
action = "add-node"
[[scenario.events]]
at = "400ms"
action = "remove-last"

[[scenario]]
name = "plot-driver"
family = "noop"
rate = 5000.0
"#;

/// How long the browser may take before the test gives up on it.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

/// Added to a copy of the page: measures each chart once laid out and writes the findings
/// into the DOM, which `--dump-dom` prints.
const PROBE: &str = r#"<script>
// Pairs of text elements whose boxes overlap by more than 2 px each way.
function overlapping(texts) {
  const boxes = texts.map(t => [t.textContent, t.getBoundingClientRect()]).filter(([s, b]) => s.trim() && b.width > 0);
  const found = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, p] = boxes[i], [b, q] = boxes[j];
    const x = Math.min(p.right, q.right) - Math.max(p.left, q.left);
    const y = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
    if (x > 2 && y > 2) found.push(a + ' / ' + b);
  }
  return found;
}
window.addEventListener('load', () => {
  const found = [...document.querySelectorAll('figure.plot')].map(f => {
    const svg = f.querySelector('svg');
    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    return {
      plot: f.dataset.plot,
      width: Math.round(box.width),
      height: Math.round(box.height),
      lines: svg ? svg.querySelectorAll('polyline[stroke-width="2"]').length : 0,
      bars: svg ? svg.querySelectorAll('rect').length : 0,
      dots: svg ? svg.querySelectorAll('circle').length : 0,
      texts: svg ? svg.querySelectorAll('text').length : 0,
      overlaps: svg ? overlapping([...svg.querySelectorAll('text')]) : [],
      small_texts: svg ? [...svg.querySelectorAll('text')].filter(t => t.textContent.trim() && t.getBoundingClientRect().height < 9).length : 0,
      axis_titles: svg ? [...svg.querySelectorAll('text')].filter(t => t.getAttribute('transform') && t.getAttribute('transform').includes('rotate')).length : 0,
      labels: svg ? [...svg.querySelectorAll('text')].map(t => t.textContent) : [],
      legend: [...f.querySelectorAll('.legend .key')].map(k => k.textContent),
    };
  });
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
});
</script>"#;

#[test]
fn report_of_a_real_run_renders_its_plots_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::run_scenario(dir.path(), "run", SCENARIO);
    let output = stratbench(&["report", run.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();

    // Self-contained: no script, no stylesheet or image fetched from anywhere.
    assert!(!html.contains("<script") && !html.contains(" src=") && !html.contains(" href="), "self-contained");
    for plot in ["spectrum", "throughput", "p99", "key-movement", "node-load", "driver-memory"] {
        assert!(html.contains(&format!("data-plot=\"{plot}\"")), "the report has a {plot} plot");
    }
    assert!(html.contains("add-node") && html.contains("remove-last"), "events are marked");
    assert!(!html.contains("data-plot=\"backend-share\""), "no family here writes backend shares");

    if std::env::var_os("STRATBENCH_SKIP_BROWSER").is_some() {
        eprintln!("STRATBENCH_SKIP_BROWSER is set: not opening the report in a browser");
        return;
    }
    let probed = dir.path().join("probed.html");
    std::fs::write(&probed, html.replace("</body>", &format!("{PROBE}\n</body>"))).unwrap();
    let dom = render_in_chromium(&probed, dir.path());
    let json = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("the probe ran in the browser: {}", &dom[..dom.len().min(2000)]));
    let plots: Vec<serde_json::Value> = serde_json::from_str(&json.replace("&quot;", "\"")).unwrap();
    let count = |kind: &str| plots.iter().filter(|p| p["plot"] == kind).count();
    assert_eq!(count("spectrum"), 2, "one spectrum per scenario: {plots:?}");
    assert_eq!(count("key-movement"), 1, "{plots:?}");
    for plot in &plots {
        assert!(plot["width"].as_u64().unwrap() > 300 && plot["height"].as_u64().unwrap() > 100, "laid out: {plot}");
        assert!(plot["texts"].as_u64().unwrap() > 5, "axes are labelled: {plot}");
        let (marks, least) = match plot["plot"].as_str().unwrap() {
            "key-movement" => (plot["bars"].as_u64().unwrap(), 8),
            "node-load" => (plot["dots"].as_u64().unwrap(), 32),
            _ => (plot["lines"].as_u64().unwrap(), 1),
        };
        assert!(marks >= least, "the chart has its data drawn: {plot}");
        assert_eq!(plot["overlaps"].as_array().unwrap().len(), 0, "no text overlaps another: {plot}");
        assert_eq!(plot["small_texts"].as_u64().unwrap(), 0, "every label is at least 9 px tall: {plot}");
        let texts: Vec<&str> = plot["labels"].as_array().unwrap().iter().filter_map(|t| t.as_str()).collect();
        let x_title = match plot["plot"].as_str().unwrap() {
            "spectrum" => "percentile",
            "key-movement" => "fraction of the key set",
            "node-load" => "share of the keys",
            _ => "seconds from the start of the measured phase",
        };
        assert!(texts.iter().any(|t| t.contains(x_title)), "the x axis has its title with its unit: {plot}");
        if plot["lines"].as_u64().unwrap() > 0 {
            assert!(plot["axis_titles"].as_u64().unwrap() >= 1, "the y axis has a title: {plot}");
        }
    }
    // Charts with several series name them: a legend with every strategy.
    let spectrum = plots.iter().find(|p| p["plot"] == "spectrum").unwrap();
    let legend: Vec<&str> = spectrum["legend"].as_array().unwrap().iter().filter_map(|t| t.as_str()).collect();
    for strategy in ["modulo", "ring", "jump", "maglev"] {
        assert!(legend.iter().any(|l| l.contains(strategy)), "the legend names {strategy}: {legend:?}");
    }
    let labels: Vec<&str> = spectrum["labels"].as_array().unwrap().iter().filter_map(|t| t.as_str()).collect();
    assert!(labels.iter().any(|l| l.contains("99.9%")), "the spectrum's x axis is in percentiles: {labels:?}");
    screenshots(&html, dir.path());
    let spectra: Vec<u64> =
        plots.iter().filter(|p| p["plot"] == "spectrum").map(|p| p["lines"].as_u64().unwrap()).collect();
    assert_eq!(spectra, vec![4, 1], "one line per strategy");
    let dots = plots.iter().find(|p| p["plot"] == "node-load").unwrap()["dots"].as_u64().unwrap();
    assert_eq!(dots, 4 * 8, "one dot per node of each of the 4 strategies");
}

/// A 1280×800 screenshot of each section of the report (the summary, then each scenario, one
/// at a time), kept under the test's target directory as an artifact to look at, and checked
/// to be a PNG of that size with something drawn.
fn screenshots(html: &str, scratch: &Path) {
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    std::fs::create_dir_all(&artifacts).unwrap();
    let sections = ["summary", "plot-hashing", "plot-driver"];
    for section in sections {
        let hide = match section {
            "summary" => "section.scenario{display:none}".to_string(),
            name => format!("body>h2,table.summary,section.scenario:not([data-scenario=\"{name}\"]){{display:none}}"),
        };
        let page = scratch.join(format!("{section}.html"));
        std::fs::write(&page, html.replace("</head>", &format!("<style>{hide}</style></head>"))).unwrap();
        let png = artifacts.join(format!("{section}.png"));
        let _ = std::fs::remove_file(&png);
        run_chromium(&page, scratch, &[format!("--screenshot={}", png.display()), "--window-size=1280,800".into()]);
        let bytes = std::fs::read(&png).unwrap_or_else(|_| panic!("Chromium wrote {}", png.display()));
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is a PNG", png.display());
        let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        assert_eq!((width, height), (1280, 800), "{}", png.display());
        assert!(bytes.len() > 20_000, "{} has something drawn ({} bytes)", png.display(), bytes.len());
    }
    eprintln!("report screenshots: {}", artifacts.display());
}

/// The DOM of `page` after Chromium loaded it and ran its scripts.
fn render_in_chromium(page: &Path, scratch: &Path) -> String {
    run_chromium(page, scratch, &["--window-size=1200,3000".into(), "--dump-dom".into()])
}

/// Runs headless Chromium on `page` with `args` and returns what it printed.
fn run_chromium(page: &Path, scratch: &Path, args: &[String]) -> String {
    let browser = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|name| Command::new(name).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok())
        .unwrap_or_else(|| {
            panic!("Chromium is not installed: scripts/test.sh installs it (apt-get install chromium), or set STRATBENCH_SKIP_BROWSER=1")
        });
    let profile = scratch.join("chromium-profile");
    std::fs::create_dir_all(&profile).unwrap();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Chromium starts");
    // Read the DOM while the browser writes it: it is larger than a pipe's buffer.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut dom = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut dom).map(|_| dom)
    });
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("Chromium did not finish within {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "Chromium failed: {status:?}");
    reader.join().unwrap().expect("Chromium's output is text")
}

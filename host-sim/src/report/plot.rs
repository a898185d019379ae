//! The report's plots, each written as PNG and SVG: position-size histogram (fills per tier),
//! round-trip size vs profit with the correlation in the title, equity curve, and the 25-bin
//! action histogram (plan §8 "Dashboard Updates").
//!
//! PNG text needs a font: DejaVu Sans Mono (Bitstream Vera licence, `assets/fonts/`) is
//! embedded so the plots render the same on a machine without fonts.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::RunReport;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");
static REGISTER: Once = Once::new();

const SIZE: (u32, u32) = (1000, 600);
/// Equity points drawn at most (the curve is subsampled by stride, keeping the last point).
const MAX_CURVE_POINTS: usize = 4_000;

fn register() {
    REGISTER.call_once(|| {
        // The embedded bytes are a valid TrueType font; a failure would only lose text.
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// The plot files written, by stem: each gets `.png` and `.svg`.
pub const PLOTS: [&str; 4] = [
    "size_histogram",
    "size_vs_profit",
    "equity_curve",
    "action_histogram",
];

type DrawResult = Result<(), String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Write every plot into `dir` as PNG and SVG; returns the paths written.
pub fn write_plots(report: &RunReport, dir: &Path) -> Result<Vec<PathBuf>, String> {
    register();
    let mut written = Vec::new();
    for stem in PLOTS {
        let png = dir.join(format!("{stem}.png"));
        let svg = dir.join(format!("{stem}.svg"));
        {
            let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
            draw(stem, report, &root).map_err(|e| format!("{}: {e}", png.display()))?;
            root.present()
                .map_err(|e| format!("{}: {e}", png.display()))?;
        }
        {
            let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
            draw(stem, report, &root).map_err(|e| format!("{}: {e}", svg.display()))?;
            root.present()
                .map_err(|e| format!("{}: {e}", svg.display()))?;
        }
        written.push(png);
        written.push(svg);
    }
    Ok(written)
}

fn draw<DB: DrawingBackend>(
    stem: &str,
    r: &RunReport,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    match stem {
        "size_histogram" => {
            let labels: Vec<String> = r.tier_sizes.iter().map(|s| s.to_string()).collect();
            bars(
                root,
                &format!("Position size distribution ({})", r.policy),
                "fills per size tier (contracts)",
                &labels,
                &r.aggregate.fills_per_tier,
            )
        }
        "action_histogram" => actions(root, r),
        "size_vs_profit" => scatter(root, r),
        _ => equity(root, r),
    }
}

fn bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    labels: &[String],
    counts: &[u64],
) -> DrawResult {
    let n = counts.len();
    let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..top)
        .map_err(err)?;
    let fmt = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
            labels[i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.min(25) * 2 + 1)
        .x_label_formatter(&fmt)
        .x_desc(x_desc)
        .y_desc("count")
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(counts.iter().enumerate().map(|(i, c)| {
            let x = i as f64;
            Rectangle::new(
                [(x - 0.4, 0.0), (x + 0.4, *c as f64)],
                BLUE.mix(0.7).filled(),
            )
        }))
        .map_err(err)?;
    Ok(())
}

/// The 25-bin action histogram on a log axis: HOLD usually dwarfs every trade action.
fn actions<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &RunReport) -> DrawResult {
    let counts = &r.action_histogram;
    let n = counts.len();
    let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 2.0;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("Actions taken ({}, log scale)", r.policy),
            ("sans-serif", 24),
        )
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, (0.5f64..top).log_scale())
        .map_err(err)?;
    let fmt = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
            format!("{i:.0}")
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(2 * n + 1)
        .x_label_formatter(&fmt)
        .x_desc("action id (0 HOLD, 1-5 BUY_YES, 6-10 SELL_YES, 11-15 BUY_NO, 16-20 SELL_NO)")
        .y_desc("count")
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(
            counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, c)| {
                    let x = i as f64;
                    Rectangle::new(
                        [(x - 0.4, 0.5), (x + 0.4, *c as f64)],
                        BLUE.mix(0.7).filled(),
                    )
                }),
        )
        .map_err(err)?;
    Ok(())
}

fn scatter<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &RunReport) -> DrawResult {
    let pts: Vec<(f64, f64)> = r
        .round_trips
        .iter()
        .map(|t| (t.size as f64, t.profit_cents as f64 / 100.0))
        .collect();
    let x_max = pts.iter().map(|p| p.0).fold(1.0, f64::max) * 1.1;
    let y_lo = pts.iter().map(|p| p.1).fold(-1.0, f64::min);
    let y_hi = pts.iter().map(|p| p.1).fold(1.0, f64::max);
    let pad = (y_hi - y_lo) * 0.1;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "Round-trip size vs profit ({}): r = {:.3}, n = {}",
                r.policy,
                r.size_profit_correlation(),
                pts.len()
            ),
            ("sans-serif", 24),
        )
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..x_max, (y_lo - pad)..(y_hi + pad))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("round-trip size (max |position|, contracts)")
        .y_desc("net profit ($)")
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new([(0.0, 0.0), (x_max, 0.0)], BLACK.mix(0.4)))
        .map_err(err)?;
    chart
        .draw_series(
            pts.iter()
                .map(|p| Circle::new(*p, 3, RED.mix(0.5).filled())),
        )
        .map_err(err)?;
    Ok(())
}

fn equity<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &RunReport) -> DrawResult {
    let curve = &r.equity_curve_cents;
    let stride = curve.len().div_ceil(MAX_CURVE_POINTS).max(1);
    let mut pts: Vec<(f64, f64)> = curve
        .iter()
        .enumerate()
        .step_by(stride)
        .map(|(i, v)| (i as f64, *v as f64 / 100.0))
        .collect();
    if let Some(last) = curve.last()
        && (curve.len() - 1) % stride != 0
    {
        pts.push(((curve.len() - 1) as f64, *last as f64 / 100.0));
    }
    let x_max = (curve.len().max(2) - 1) as f64;
    let lo = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.1).max(1.0);
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "Equity curve ({}, {} episodes, mean return {:.2}%)",
                r.policy,
                r.per_episode.len(),
                r.aggregate.total_return * 100.0
            ),
            ("sans-serif", 24),
        )
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..x_max, (lo - pad)..(hi + pad))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("step (episodes concatenated)")
        .y_desc("portfolio value ($)")
        .draw()
        .map_err(err)?;
    for s in &r.episode_starts {
        let x = *s as f64;
        chart
            .draw_series(LineSeries::new(
                [(x, lo - pad), (x, hi + pad)],
                BLACK.mix(0.15),
            ))
            .map_err(err)?;
    }
    chart
        .draw_series(LineSeries::new(pts, &BLUE))
        .map_err(err)?;
    Ok(())
}

/// Plan §8 "track sizing patterns over time": per training iteration, the share of trade
/// actions in each size tier (stacked lines) and the mean chosen size in contracts. Written
/// as `sizing_over_training.png` / `.svg` into `dir`; `rows` are `(iteration, tier counts)`.
pub fn write_training_sizing(
    rows: &[(u64, [u32; 5])],
    sizes: [u32; 5],
    dir: &Path,
) -> Result<Vec<PathBuf>, String> {
    register();
    let png = dir.join("sizing_over_training.png");
    let svg = dir.join("sizing_over_training.svg");
    {
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        training_sizing(&root, rows, sizes).map_err(|e| format!("{}: {e}", png.display()))?;
        root.present()
            .map_err(|e| format!("{}: {e}", png.display()))?;
    }
    {
        let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
        training_sizing(&root, rows, sizes).map_err(|e| format!("{}: {e}", svg.display()))?;
        root.present()
            .map_err(|e| format!("{}: {e}", svg.display()))?;
    }
    Ok(vec![png, svg])
}

fn training_sizing<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[(u64, [u32; 5])],
    sizes: [u32; 5],
) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let (top, bottom) = root.split_vertically(SIZE.1 / 2);
    let x_max = rows.last().map_or(1, |r| r.0).max(1) as f64;
    let share = |r: &[u32; 5], t: usize| {
        let n: u32 = r.iter().sum();
        if n == 0 {
            0.0
        } else {
            f64::from(r[t]) / f64::from(n)
        }
    };
    let mut chart = ChartBuilder::on(&top)
        .caption(
            "Size tier share of trade actions per iteration",
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max, 0f64..1f64)
        .map_err(err)?;
    chart.configure_mesh().y_desc("share").draw().map_err(err)?;
    let colors = [BLUE, GREEN, MAGENTA, RED, BLACK];
    for (t, c) in colors.iter().enumerate() {
        chart
            .draw_series(LineSeries::new(
                rows.iter().map(|r| (r.0 as f64, share(&r.1, t))),
                c,
            ))
            .map_err(err)?
            .label(format!("{} contracts", sizes[t]))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colors[t]));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(err)?;
    let mean = |r: &[u32; 5]| {
        let n: u32 = r.iter().sum();
        if n == 0 {
            0.0
        } else {
            r.iter()
                .zip(sizes)
                .map(|(&c, s)| f64::from(c) * f64::from(s))
                .sum::<f64>()
                / f64::from(n)
        }
    };
    let hi = rows.iter().map(|r| mean(&r.1)).fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&bottom)
        .caption(
            "Mean chosen size per iteration (contracts)",
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max, 0f64..hi * 1.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc("contracts")
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            rows.iter().map(|r| (r.0 as f64, mean(&r.1))),
            &BLUE,
        ))
        .map_err(err)?;
    Ok(())
}

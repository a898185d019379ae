//! The summary table of `run` (one column) and `compare` (one column per policy).

use kalsim_host_sim::report::RunReport;

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn dollars(cents: f64) -> String {
    format!("${:.2}", cents / 100.0)
}

/// Rows of (metric, value per report).
fn rows(reports: &[&RunReport]) -> Vec<(&'static str, Vec<String>)> {
    let col = |f: &dyn Fn(&RunReport) -> String| reports.iter().map(|r| f(r)).collect();
    vec![
        (
            "episodes / steps",
            col(&|r| format!("{} / {}", r.aggregate.episodes, r.aggregate.steps)),
        ),
        (
            "total return (mean)",
            col(&|r| pct(r.aggregate.total_return)),
        ),
        (
            "Sharpe per step (mean)",
            col(&|r| format!("{:.4}", r.aggregate.sharpe)),
        ),
        (
            "max drawdown (mean)",
            col(&|r| pct(r.aggregate.max_drawdown)),
        ),
        (
            "max drawdown (worst)",
            col(&|r| pct(r.aggregate.max_drawdown_worst)),
        ),
        (
            "win rate (round trips)",
            col(&|r| pct(r.aggregate.win_rate_pooled)),
        ),
        ("round trips", col(&|r| r.aggregate.round_trips.to_string())),
        (
            "fees per episode",
            col(&|r| dollars(r.aggregate.fees_cents)),
        ),
        ("HOLD fraction", col(&|r| pct(r.aggregate.hold_fraction))),
        (
            "size distribution (fills)",
            col(&|r| {
                r.aggregate
                    .position_size_distribution
                    .iter()
                    .map(|(size, n)| format!("{size}:{n}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
        ),
        (
            "avg winning size",
            col(&|r| format!("{:.1}", r.aggregate.avg_winning_position_size)),
        ),
        (
            "avg losing size",
            col(&|r| format!("{:.1}", r.aggregate.avg_losing_position_size)),
        ),
        (
            "size efficiency (r)",
            col(&|r| format!("{:.3}", r.aggregate.size_efficiency_pooled)),
        ),
        (
            "max position",
            col(&|r| r.aggregate.max_position_reached.to_string()),
        ),
        (
            "size changes / episode",
            col(&|r| format!("{:.1}", r.aggregate.size_changes_per_episode)),
        ),
        (
            "avg |position|",
            col(&|r| format!("{:.1}", r.aggregate.avg_position_size)),
        ),
        (
            "invalid actions",
            col(&|r| r.aggregate.invalid_actions.to_string()),
        ),
    ]
}

/// The table as text, policies as columns.
pub fn summary(reports: &[&RunReport]) -> String {
    let rows = rows(reports);
    let label_w = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut widths: Vec<usize> = reports.iter().map(|r| r.policy.chars().count()).collect();
    for (_, vals) in &rows {
        for (w, v) in widths.iter_mut().zip(vals) {
            *w = (*w).max(v.chars().count());
        }
    }
    let mut out = format!("{:<label_w$}", "metric");
    for (r, w) in reports.iter().zip(&widths) {
        out += &format!("  {:>w$}", r.policy);
    }
    out.push('\n');
    out += &"-".repeat(label_w + widths.iter().map(|w| w + 2).sum::<usize>());
    out.push('\n');
    for (label, vals) in rows {
        out += &format!("{label:<label_w$}");
        for (v, w) in vals.iter().zip(&widths) {
            out += &format!("  {v:>w$}");
        }
        out.push('\n');
    }
    out
}

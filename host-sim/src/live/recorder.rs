//! `kalsim record`: the live WebSocket client writes the raw frames it receives (book
//! snapshots and deltas, public trades, market lifecycle) as JSON Lines in the replay format
//! (SPEC §10), so a dataset recorded from Kalshi replays unchanged (`kalsim run --data`,
//! `kalsim validate-data`).
//!
//! - Files `DIR/capture-00000.jsonl`, `capture-00001.jsonl`, ... rotate after
//!   `--rotate-lines` lines; each new file starts with fresh snapshots (the client
//!   resubscribes), so every file also loads on its own.
//! - A resync (sequence gap, unreadable book message, reconnect) is written as a
//!   `{"type": "kalsim_resync", "msg": {...}}` line, which the loader counts as an ignored
//!   type; the frames around it keep their `sid`/`seq`, so the loader sees the same gap and
//!   resynchronises at the next snapshot, as the live client did.
//! - Frames of deci-cent markets are written as received: their sub-cent levels are reported
//!   by the loader as counted skips in lenient mode (SPEC §10).

use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use super::signal::{KillSwitch, install_signal_handlers};
use crate::venue::ws::{Channels, DEMO_WS_URL, PRODUCTION_WS_URL};
use crate::venue::{BookUpdate, Credentials, MarketDataClient, MarketDataConfig};

/// Arguments of `kalsim record`.
#[derive(Clone, Debug, Args)]
pub struct RecordArgs {
    /// Comma-separated market tickers.
    #[arg(long, value_delimiter = ',', required = true)]
    pub markets: Vec<String>,
    /// Directory for the JSONL files (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// WebSocket URL (default: Kalshi demo; production with --production).
    #[arg(long)]
    pub ws_url: Option<String>,
    /// Record from Kalshi production instead of demo.
    #[arg(long)]
    pub production: bool,
    /// Lines per file before rotating.
    #[arg(long, default_value_t = 500_000)]
    pub rotate_lines: u64,
    /// Stop after this many frames.
    #[arg(long)]
    pub max_frames: Option<u64>,
    /// Stop when nothing arrives for this many milliseconds.
    #[arg(long)]
    pub idle_exit_ms: Option<u64>,
    /// Stop as soon as this file exists.
    #[arg(long)]
    pub kill_file: Option<PathBuf>,
    /// Leave public trades out.
    #[arg(long)]
    pub no_trades: bool,
    /// API key id (default: $KALSHI_API_KEY_ID).
    #[arg(long)]
    pub key_id: Option<String>,
    /// PEM private key file (default: $KALSHI_PRIVATE_KEY_PATH).
    #[arg(long)]
    pub private_key: Option<PathBuf>,
}

/// What a recording wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordReport {
    /// Data frames written.
    pub frames: u64,
    /// Resync markers written.
    pub resyncs: u64,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Rotating JSONL writer.
#[derive(Debug)]
pub struct Recorder {
    dir: PathBuf,
    rotate_lines: u64,
    lines_in_file: u64,
    out: Option<BufWriter<File>>,
    report: RecordReport,
}

impl Recorder {
    /// Write into `dir` (created), rotating after `rotate_lines` lines (≥ 1).
    pub fn new(dir: &Path, rotate_lines: u64) -> std::io::Result<Recorder> {
        std::fs::create_dir_all(dir)?;
        Ok(Recorder {
            dir: dir.to_owned(),
            rotate_lines: rotate_lines.max(1),
            lines_in_file: 0,
            out: None,
            report: RecordReport::default(),
        })
    }

    fn open_next(&mut self) -> std::io::Result<()> {
        if let Some(mut o) = self.out.take() {
            o.flush()?;
        }
        let path = self
            .dir
            .join(format!("capture-{:05}.jsonl", self.report.files.len()));
        self.out = Some(BufWriter::new(File::create(&path)?));
        self.report.files.push(path);
        self.lines_in_file = 0;
        Ok(())
    }

    /// Whether the current file is full (the caller resubscribes, then writes on).
    pub fn wants_rotation(&self) -> bool {
        self.out.is_some() && self.lines_in_file >= self.rotate_lines
    }

    fn line(&mut self, text: &str) -> std::io::Result<()> {
        if self.out.is_none() || self.wants_rotation() {
            self.open_next()?;
        }
        if let Some(o) = self.out.as_mut() {
            o.write_all(text.trim_end().as_bytes())?;
            o.write_all(b"\n")?;
        }
        self.lines_in_file += 1;
        Ok(())
    }

    /// Write one raw frame.
    pub fn frame(&mut self, text: &str) -> std::io::Result<()> {
        self.report.frames += 1;
        self.line(text)
    }

    /// Write a resync marker.
    pub fn resync(&mut self, reason: &str) -> std::io::Result<()> {
        self.report.resyncs += 1;
        let line = json!({"type": "kalsim_resync", "msg": {"reason": reason,
            "ts_ms": crate::venue::auth::now_ms()}});
        self.line(&line.to_string())
    }

    /// Flush and report.
    pub fn finish(mut self) -> std::io::Result<RecordReport> {
        if let Some(mut o) = self.out.take() {
            o.flush()?;
        }
        Ok(self.report)
    }
}

/// Record from `client` until `kill` trips, `max_frames` frames are written or nothing
/// arrives for `idle`.
pub fn record_from(
    client: &mut MarketDataClient,
    recorder: &mut Recorder,
    kill: &KillSwitch,
    max_frames: Option<u64>,
    idle: Option<Duration>,
) -> Result<(), Box<dyn Error>> {
    let mut last = Instant::now();
    loop {
        if kill.tripped().is_some() || max_frames.is_some_and(|n| recorder.report.frames >= n) {
            return Ok(());
        }
        let update = client.next_update(Duration::from_millis(200))?;
        for f in client.drain_raw() {
            recorder.frame(&f)?;
        }
        match update {
            None if idle.is_some_and(|d| last.elapsed() >= d) => return Ok(()),
            None => {}
            Some(u) => {
                last = Instant::now();
                let reason = match &u {
                    BookUpdate::Gap {
                        sid,
                        expected,
                        seen,
                    } => Some(format!(
                        "sequence gap on sid {sid}: expected {expected}, saw {seen}"
                    )),
                    BookUpdate::Resync { ticker, reason } => Some(format!("{ticker}: {reason}")),
                    BookUpdate::Reconnected => Some("reconnected".into()),
                    _ => None,
                };
                if let Some(r) = reason {
                    recorder.resync(&r)?;
                }
            }
        }
        if recorder.wants_rotation() {
            // The next file starts with fresh snapshots.
            client.resync_all()?;
            recorder.open_next()?;
        }
    }
}

/// `kalsim record`.
pub fn run(args: RecordArgs) -> Result<(), Box<dyn Error>> {
    let tickers: Vec<String> = args
        .markets
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    if tickers.is_empty() {
        return Err("--markets names no market".into());
    }
    let credentials = match (&args.key_id, &args.private_key) {
        (Some(id), Some(path)) => Credentials::from_pem_file(id.clone(), path)?,
        _ => Credentials::from_env()?,
    };
    let url = args.ws_url.clone().unwrap_or_else(|| {
        if args.production {
            PRODUCTION_WS_URL
        } else {
            DEMO_WS_URL
        }
        .to_owned()
    });
    let mut cfg = MarketDataConfig::new(url, tickers);
    cfg.keep_raw = true;
    cfg.channels = Channels {
        lifecycle: true,
        trades: !args.no_trades,
        ..Channels::default()
    };
    let mut client = MarketDataClient::connect(cfg, &credentials)?;
    install_signal_handlers();
    let kill = KillSwitch::new(args.kill_file.clone()).with_signals();
    let mut recorder = Recorder::new(&args.out, args.rotate_lines)
        .map_err(|e| format!("record: {}: {e}", args.out.display()))?;
    let result = record_from(
        &mut client,
        &mut recorder,
        &kill,
        args.max_frames,
        args.idle_exit_ms.map(Duration::from_millis),
    );
    let report = recorder.finish()?;
    eprintln!(
        "record: {} frames, {} resyncs, {} files in {}",
        report.frames,
        report.resyncs,
        report.files.len(),
        args.out.display()
    );
    result
}

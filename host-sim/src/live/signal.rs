//! The kill switch: an [`AtomicBool`] set by SIGINT/SIGTERM or by the caller, plus an
//! optional kill file polled by the actor.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Set by SIGINT/SIGTERM (signal-hook's async-signal-safe flag handler); read through
/// every [`KillSwitch`] built `with_signals`.
fn signalled() -> &'static Arc<AtomicBool> {
    static SIGNALLED: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    SIGNALLED.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Stop requests: a shared flag, SIGINT/SIGTERM (after [`install_signal_handlers`]) and the
/// existence of a kill file.
#[derive(Clone, Debug, Default)]
pub struct KillSwitch {
    flag: Arc<AtomicBool>,
    file: Option<PathBuf>,
    signals: bool,
}

impl KillSwitch {
    /// A switch that trips when `file` exists (if given) or [`KillSwitch::trip`] is called.
    pub fn new(file: Option<PathBuf>) -> KillSwitch {
        KillSwitch {
            flag: Arc::new(AtomicBool::new(false)),
            file,
            signals: false,
        }
    }

    /// Also trip on SIGINT/SIGTERM (the handlers must be installed).
    pub fn with_signals(mut self) -> KillSwitch {
        self.signals = true;
        self
    }

    /// Trip the switch (from any thread or clone).
    pub fn trip(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Why the switch is tripped, if it is.
    pub fn tripped(&self) -> Option<&'static str> {
        if self.flag.load(Ordering::SeqCst) {
            Some("kill switch")
        } else if self.signals && signalled().load(Ordering::SeqCst) {
            Some("signal")
        } else if self.file.as_ref().is_some_and(|f| f.exists()) {
            Some("kill file")
        } else {
            None
        }
    }
}

/// Route SIGINT and SIGTERM to every [`KillSwitch`] built `with_signals` (Unix, through
/// signal-hook; elsewhere a no-op: use the kill file). A handler that cannot be installed
/// is reported on stderr (the kill file and the flag still work).
pub fn install_signal_handlers() {
    #[cfg(unix)]
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(signalled())) {
            eprintln!("live: cannot install the handler of signal {sig}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trips_on_flag_file_and_signal() {
        let dir = std::env::temp_dir().join(format!("kalsim-kill-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let k = KillSwitch::new(Some(dir.clone()));
        assert_eq!(k.tripped(), None);
        std::fs::write(&dir, b"").unwrap();
        assert_eq!(k.tripped(), Some("kill file"));
        std::fs::remove_file(&dir).unwrap();
        let clone = k.clone();
        clone.trip();
        assert_eq!(k.tripped(), Some("kill switch"), "clones share the flag");

        let s = KillSwitch::new(None).with_signals();
        let deaf = KillSwitch::new(None);
        #[cfg(unix)]
        {
            // A real SIGTERM to this process, caught by the installed handler.
            install_signal_handlers();
            signal_hook::low_level::raise(signal_hook::consts::SIGTERM).unwrap();
            assert_eq!(s.tripped(), Some("signal"));
            assert_eq!(
                deaf.tripped(),
                None,
                "only switches built with_signals listen"
            );
            signalled().store(false, Ordering::SeqCst);
        }
        let _ = (s, deaf);
    }
}

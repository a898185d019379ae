//! The JSONL decision log and the observation hash.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde_json::Value;

/// FNV-1a (64-bit) over the little-endian bits of every `f32`: equal hashes mean
/// bit-identical observations.
pub fn obs_hash(obs: &[f32]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in obs {
        for b in v.to_bits().to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// One JSON object per line, flushed per line so a crash loses nothing already decided.
pub struct DecisionLog {
    out: Option<BufWriter<File>>,
    lines: u64,
}

impl std::fmt::Debug for DecisionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionLog")
            .field("enabled", &self.out.is_some())
            .field("lines", &self.lines)
            .finish()
    }
}

impl DecisionLog {
    /// A log that writes nothing (lines are still counted).
    pub fn disabled() -> DecisionLog {
        DecisionLog {
            out: None,
            lines: 0,
        }
    }

    /// Create (truncate) `path`.
    pub fn create(path: &Path) -> io::Result<DecisionLog> {
        Ok(DecisionLog {
            out: Some(BufWriter::new(File::create(path)?)),
            lines: 0,
        })
    }

    /// Append one line.
    pub fn write(&mut self, line: &Value) -> io::Result<()> {
        self.lines += 1;
        if let Some(out) = self.out.as_mut() {
            serde_json::to_writer(&mut *out, line)?;
            out.write_all(b"\n")?;
            out.flush()?;
        }
        Ok(())
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_sees_every_bit() {
        assert_ne!(obs_hash(&[0.0]), obs_hash(&[-0.0]));
        assert_ne!(obs_hash(&[1.0, 2.0]), obs_hash(&[2.0, 1.0]));
        assert_eq!(obs_hash(&[]), 0xcbf2_9ce4_8422_2325);
    }
}

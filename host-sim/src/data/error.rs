//! The typed load error of SPEC §10: every bad line names its file, line and field.

use std::fmt;

use kalsim_core::{BookError, Side};

/// What went wrong with a line (or the file). Each kind has a stable [`name`](Self::name)
/// used to count lenient-mode skips.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataErrorKind {
    /// Reading the source failed.
    Io {
        /// The operating system's message.
        message: String,
    },
    /// The line is not valid JSON (or not valid UTF-8, or a value has the wrong JSON shape).
    Json {
        /// The parser's message.
        message: String,
    },
    /// A required field is absent (the field is named by [`DataError::field`]).
    MissingField,
    /// A field holds a value of the wrong type or an unknown value (e.g. side `"maybe"`).
    BadValue {
        /// What was wrong.
        message: String,
    },
    /// A price outside `1..=99` cents.
    PriceOutOfRange {
        /// The price, in cents.
        cents: i64,
    },
    /// A dollar price that is not a whole number of cents (deci-cent markets are out of scope).
    SubCentPrice {
        /// The price as written.
        text: String,
    },
    /// A delta (or snapshot level) that would leave negative depth.
    NegativeDepth {
        /// Ladder.
        side: Side,
        /// Level price, cents.
        price_cents: u8,
        /// Depth before, centi-contracts.
        depth_centi: u64,
        /// The signed change, centi-contracts.
        delta_centi: i64,
    },
    /// The update would cross the book (best YES bid + best NO bid ≥ 100¢).
    Crossed {
        /// Best YES bid after the update, cents.
        yes_bid: u8,
        /// Best NO bid after the update, cents.
        no_bid: u8,
    },
    /// A snapshot lists the same level twice.
    DuplicateLevel {
        /// Ladder.
        side: Side,
        /// Level price, cents.
        price_cents: u8,
    },
    /// Depth beyond the representable range.
    DepthOverflow,
    /// `seq` is not contiguous for this `sid`.
    SequenceGap {
        /// Subscription id.
        sid: u64,
        /// The seq that should have come next.
        expected: u64,
        /// The seq that came.
        seen: u64,
    },
    /// A delta for a market that has had no snapshot yet.
    DeltaBeforeSnapshot {
        /// Market ticker.
        ticker: String,
    },
    /// A settlement result other than `yes` / `no`, or a malformed results file.
    BadResult {
        /// The value as written.
        value: String,
    },
    /// A forecast names a market the data has no book for (SPEC §10).
    UnknownMarket {
        /// The ticker as written.
        ticker: String,
    },
}

impl DataErrorKind {
    /// Stable short name of the kind (`"json"`, `"sequence_gap"`, ...), for counting.
    pub fn name(&self) -> &'static str {
        match self {
            DataErrorKind::Io { .. } => "io",
            DataErrorKind::Json { .. } => "json",
            DataErrorKind::MissingField => "missing_field",
            DataErrorKind::BadValue { .. } => "bad_value",
            DataErrorKind::PriceOutOfRange { .. } => "price_out_of_range",
            DataErrorKind::SubCentPrice { .. } => "sub_cent_price",
            DataErrorKind::NegativeDepth { .. } => "negative_depth",
            DataErrorKind::Crossed { .. } => "crossed",
            DataErrorKind::DuplicateLevel { .. } => "duplicate_level",
            DataErrorKind::DepthOverflow => "depth_overflow",
            DataErrorKind::SequenceGap { .. } => "sequence_gap",
            DataErrorKind::DeltaBeforeSnapshot { .. } => "delta_before_snapshot",
            DataErrorKind::BadResult { .. } => "bad_result",
            DataErrorKind::UnknownMarket { .. } => "unknown_market",
        }
    }
}

impl From<BookError> for DataErrorKind {
    fn from(e: BookError) -> DataErrorKind {
        match e {
            BookError::NegativeDepth {
                side,
                price,
                depth_centi,
                delta_centi,
            } => DataErrorKind::NegativeDepth {
                side,
                price_cents: price.cents(),
                depth_centi,
                delta_centi,
            },
            BookError::Crossed { yes_bid, no_bid } => DataErrorKind::Crossed { yes_bid, no_bid },
            BookError::DuplicateLevel { side, price } => DataErrorKind::DuplicateLevel {
                side,
                price_cents: price.cents(),
            },
            BookError::DepthOverflow { .. } => DataErrorKind::DepthOverflow,
            other => DataErrorKind::BadValue {
                message: other.to_string(),
            },
        }
    }
}

impl fmt::Display for DataErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataErrorKind::Io { message } => write!(f, "I/O error: {message}"),
            DataErrorKind::Json { message } => write!(f, "malformed JSON: {message}"),
            DataErrorKind::MissingField => write!(f, "required field is missing"),
            DataErrorKind::BadValue { message } => write!(f, "{message}"),
            DataErrorKind::PriceOutOfRange { cents } => {
                write!(f, "price {cents} is outside 1..=99")
            }
            DataErrorKind::SubCentPrice { text } => write!(
                f,
                "price {text:?} is not a whole number of cents (sub-cent prices are not supported)"
            ),
            DataErrorKind::NegativeDepth {
                side,
                price_cents,
                depth_centi,
                delta_centi,
            } => write!(
                f,
                "delta {delta_centi} centi-contracts on {} bids at {price_cents}¢ leaves negative depth (depth was {depth_centi})",
                side.name()
            ),
            DataErrorKind::Crossed { yes_bid, no_bid } => write!(
                f,
                "crossed book: best yes bid {yes_bid}¢ + best no bid {no_bid}¢ = {}¢ ≥ 100¢",
                *yes_bid as u16 + *no_bid as u16
            ),
            DataErrorKind::DuplicateLevel { side, price_cents } => write!(
                f,
                "snapshot lists {} bids at {price_cents}¢ twice",
                side.name()
            ),
            DataErrorKind::DepthOverflow => write!(f, "depth overflows"),
            DataErrorKind::SequenceGap {
                sid,
                expected,
                seen,
            } => write!(
                f,
                "sequence gap on sid {sid}: expected seq {expected}, saw {seen}"
            ),
            DataErrorKind::DeltaBeforeSnapshot { ticker } => {
                write!(f, "delta for {ticker} before any snapshot of it")
            }
            DataErrorKind::UnknownMarket { ticker } => {
                write!(
                    f,
                    "forecast for market {ticker:?}, which the data has no book for"
                )
            }
            DataErrorKind::BadResult { value } => {
                write!(
                    f,
                    "settlement result {value:?} is neither \"yes\" nor \"no\""
                )
            }
        }
    }
}

/// A load error: the kind plus where it happened.
///
/// Displays as `capture.jsonl:17: field "msg.price": price 105 is outside 1..=99`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError {
    /// What went wrong.
    pub kind: DataErrorKind,
    /// File (or source) name.
    pub source_name: String,
    /// 1-based line number, when the error belongs to a line.
    pub line: Option<u64>,
    /// JSON path of the offending field (`msg.yes[3][0]`), when one is to blame.
    pub field: Option<String>,
}

impl DataError {
    /// An error of `kind` at `source_name:line`, optionally naming a field.
    pub fn new(
        kind: DataErrorKind,
        source_name: &str,
        line: Option<u64>,
        field: Option<String>,
    ) -> DataError {
        DataError {
            kind,
            source_name: source_name.to_owned(),
            line,
            field,
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source_name)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "field \"{field}\": ")?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for DataError {}

//! Status codes, the thread-local error message and the panic boundary.
//!
//! Every exported function that can fail returns a [`kalsim_status`]; the detail of the last
//! failure on the calling thread is kept for [`kalsim_last_error`].

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use kalsim_core::{ActionError, InvalidAction, StepError};
use kalsim_host_sim::data::DataError;
use kalsim_host_sim::env::{ConfigError, EnvError};

/// The result of every fallible kalsim function. `KALSIM_STATUS_OK` is zero; values are
/// stable and never reused.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum kalsim_status {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullPointer = 1,
    /// An integer argument is out of its documented range (intent, tier, price, index, count).
    InvalidArgument = 2,
    /// The action id is not in the action space (>= 25).
    InvalidAction = 3,
    /// The action id is reserved (21..=24) where an executable action was required.
    ReservedAction = 4,
    /// The action is masked and the environment runs with `invalid_action = "error"`.
    MaskedAction = 5,
    /// The configuration JSON is malformed or holds an unusable value.
    Config = 6,
    /// The market data could not be read or is invalid.
    Data = 7,
    /// `step` was called before the first `reset`.
    NotReset = 8,
    /// `step` was called after the episode ended, without `reset`.
    EpisodeOver = 9,
    /// A caller buffer is shorter than the call needs (the last error names it, with the
    /// required and the given length).
    Buffer = 10,
    /// A policy could not be loaded or applied.
    Policy = 11,
    /// A bug: Rust code panicked; the panic was caught at the boundary.
    Panic = 12,
    /// A training, evaluation or experiment run failed while running (a file that could not
    /// be written, a failing environment); the last error says what and where.
    Run = 13,
}

/// Number of status codes (one past the largest).
const STATUS_COUNT: u32 = 14;

impl kalsim_status {
    fn message(self) -> &'static std::ffi::CStr {
        match self {
            kalsim_status::Ok => c"ok",
            kalsim_status::NullPointer => c"a required pointer argument was NULL",
            kalsim_status::InvalidArgument => c"an integer argument is out of range",
            kalsim_status::InvalidAction => c"the action id is not in the action space (>= 25)",
            kalsim_status::ReservedAction => c"the action id is reserved (21..=24)",
            kalsim_status::MaskedAction => c"the action is masked (invalid_action = \"error\")",
            kalsim_status::Config => c"invalid configuration",
            kalsim_status::Data => c"invalid or unreadable market data",
            kalsim_status::NotReset => c"step called before reset",
            kalsim_status::EpisodeOver => c"step called after the episode ended; call reset",
            kalsim_status::Buffer => c"a buffer is too short",
            kalsim_status::Policy => c"policy error",
            kalsim_status::Panic => c"internal error: a panic was caught at the C boundary",
            kalsim_status::Run => c"a training, evaluation or experiment run failed",
        }
    }

    fn from_u32(v: u32) -> Option<kalsim_status> {
        use kalsim_status::*;
        const ALL: [kalsim_status; STATUS_COUNT as usize] = [
            Ok,
            NullPointer,
            InvalidArgument,
            InvalidAction,
            ReservedAction,
            MaskedAction,
            Config,
            Data,
            NotReset,
            EpisodeOver,
            Buffer,
            Policy,
            Panic,
            Run,
        ];
        ALL.get(v as usize).copied()
    }
}

/// A failure on its way to C: a status and a detailed message.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub(crate) status: kalsim_status,
    pub(crate) message: String,
}

impl FfiError {
    pub(crate) fn new(status: kalsim_status, message: impl Into<String>) -> FfiError {
        FfiError {
            status,
            message: message.into(),
        }
    }
    pub(crate) fn null(name: &str) -> FfiError {
        FfiError::new(
            kalsim_status::NullPointer,
            format!("argument `{name}` is NULL"),
        )
    }
    pub(crate) fn arg(message: impl Into<String>) -> FfiError {
        FfiError::new(kalsim_status::InvalidArgument, message)
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, FfiError>;

impl From<ActionError> for FfiError {
    fn from(e: ActionError) -> FfiError {
        let status = match e {
            ActionError::Reserved(_) => kalsim_status::ReservedAction,
            ActionError::OutOfRange(_) => kalsim_status::InvalidAction,
            _ => kalsim_status::InvalidArgument,
        };
        FfiError::new(status, e.to_string())
    }
}

impl From<EnvError> for FfiError {
    fn from(e: EnvError) -> FfiError {
        let status = match &e {
            EnvError::NotReset => kalsim_status::NotReset,
            EnvError::EpisodeOver => kalsim_status::EpisodeOver,
            EnvError::Step(StepError::Action(a)) => return FfiError::from(*a),
            EnvError::Step(StepError::Masked {
                reason: InvalidAction::Reserved,
                ..
            }) => kalsim_status::ReservedAction,
            EnvError::Step(_) => kalsim_status::MaskedAction,
            EnvError::Buffer { .. } => kalsim_status::Buffer,
            _ => kalsim_status::Data,
        };
        FfiError::new(status, e.to_string())
    }
}

impl From<ConfigError> for FfiError {
    fn from(e: ConfigError) -> FfiError {
        FfiError::new(kalsim_status::Config, e.to_string())
    }
}

/// Classify the boxed errors of `load_markets` and `Env::new`.
pub(crate) fn from_boxed(e: Box<dyn std::error::Error + Send + Sync>) -> FfiError {
    if let Some(c) = e.downcast_ref::<ConfigError>() {
        return FfiError::from(c.clone());
    }
    if let Some(env) = e.downcast_ref::<EnvError>() {
        return FfiError::from(env.clone());
    }
    if e.downcast_ref::<DataError>().is_some() {
        return FfiError::new(kalsim_status::Data, format!("data: {e}"));
    }
    // Plain string errors: results-file I/O and the like.
    FfiError::new(kalsim_status::Data, e.to_string())
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    // An interior NUL cannot cross as a C string: replace it.
    let text = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|cell| *cell.borrow_mut() = text);
}

/// Run `body` inside the panic boundary: map its error (or a panic) to a status and record
/// the message for [`kalsim_last_error`].
pub(crate) fn boundary(body: impl FnOnce() -> FfiResult) -> kalsim_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => kalsim_status::Ok,
        Ok(Err(e)) => {
            set_last_error(&e.message);
            e.status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic payload".into());
            set_last_error(&format!("panic: {what}"));
            kalsim_status::Panic
        }
    }
}

/// A static, NUL-terminated description of `status` (never NULL; unknown values give
/// "unknown status").
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_status_str(status: u32) -> *const c_char {
    match kalsim_status::from_u32(status) {
        Some(s) => s.message().as_ptr(),
        None => c"unknown status".as_ptr(),
    }
}

/// The detailed message of the last failure on the calling thread ("" when none).
///
/// Never NULL. The string stays valid until the next failing kalsim call on this thread;
/// copy it if you need it longer. Successful calls do not clear it.
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_last_error() -> *const c_char {
    LAST_ERROR.with(|cell| cell.borrow().as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_message_and_round_trips() {
        for v in 0..STATUS_COUNT {
            let s = kalsim_status::from_u32(v).unwrap();
            assert_eq!(s as u32, v);
            assert!(!s.message().to_bytes().is_empty());
        }
        assert!(kalsim_status::from_u32(STATUS_COUNT).is_none());
    }

    #[test]
    fn panics_become_status_panic() {
        let s = boundary(|| panic!("boom"));
        assert_eq!(s, kalsim_status::Panic);
        let msg = unsafe { std::ffi::CStr::from_ptr(kalsim_last_error()) };
        assert!(msg.to_str().unwrap().contains("boom"));
    }
}

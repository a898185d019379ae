//! The little unsafe there is: turning C pointers into references and slices.
//!
//! Each helper checks for NULL and reports the argument's name; buffers come with the
//! caller's length, checked against the length the call needs. The caller's contract (the
//! header documents it) is that a non-NULL pointer is valid for the length it passes.

use std::ffi::{CStr, c_char};

use crate::status::{FfiError, FfiResult, kalsim_status};

/// A shared reference from a non-NULL pointer.
///
/// # Safety
/// `p` is NULL or valid for reads of `T` for `'a`.
pub(crate) unsafe fn as_ref<'a, T>(p: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: the caller guarantees validity; NULL is checked here.
    unsafe { p.as_ref() }.ok_or_else(|| FfiError::null(name))
}

/// An exclusive reference from a non-NULL pointer.
///
/// # Safety
/// `p` is NULL or valid for reads and writes of `T` for `'a`, with no other alias.
pub(crate) unsafe fn as_mut<'a, T>(p: *mut T, name: &str) -> FfiResult<&'a mut T> {
    // SAFETY: as above.
    unsafe { p.as_mut() }.ok_or_else(|| FfiError::null(name))
}

/// Check a caller buffer of `len` elements against the `required` length: NULL gives
/// `KALSIM_STATUS_NULL_POINTER`, a short buffer `KALSIM_STATUS_BUFFER` naming both lengths.
fn check_buffer<T>(p: *const T, len: usize, required: usize, name: &str) -> FfiResult {
    if p.is_null() {
        return Err(FfiError::null(name));
    }
    if len < required {
        return Err(FfiError::new(
            kalsim_status::Buffer,
            format!("buffer `{name}` is too short: {required} elements required, {len} given"),
        ));
    }
    Ok(())
}

/// The first `required` elements of a caller buffer of `len` elements (an input array).
///
/// # Safety
/// `p` is NULL or valid for reads of `len` elements for `'a`.
pub(crate) unsafe fn slice<'a, T>(
    p: *const T,
    len: usize,
    required: usize,
    name: &str,
) -> FfiResult<&'a [T]> {
    check_buffer(p, len, required, name)?;
    // SAFETY: non-NULL, and the caller guarantees `len >= required` readable elements.
    Ok(unsafe { std::slice::from_raw_parts(p, required) })
}

/// The first `required` elements of a caller buffer of `len` elements (an output array;
/// elements past `required` are left untouched).
///
/// # Safety
/// `p` is NULL or valid for reads and writes of `len` elements for `'a`, with no alias.
pub(crate) unsafe fn slice_mut<'a, T>(
    p: *mut T,
    len: usize,
    required: usize,
    name: &str,
) -> FfiResult<&'a mut [T]> {
    check_buffer(p, len, required, name)?;
    // SAFETY: non-NULL, and the caller guarantees `len >= required` writable elements.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, required) })
}

/// A UTF-8 string from a C string; NULL reads as "".
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn str_or_empty<'a>(p: *const c_char, name: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Ok("");
    }
    // SAFETY: non-NULL and NUL-terminated by contract.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map_err(|e| FfiError::arg(format!("argument `{name}` is not valid UTF-8: {e}")))
}

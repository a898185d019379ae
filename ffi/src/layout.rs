//! The layout of this ABI's structs, described at run time: `kalsim_struct_*`.
//!
//! A binding without a C compiler (Python's ctypes, a JIT) builds its mirror of a struct from
//! this description rather than restating the field list; `tests` below pin the table to the
//! cbindgen header (so to the Rust structs) and to `kalsim-host-sim`'s `StepInfo`.

use std::ffi::c_char;
use std::mem::{offset_of, size_of};

use crate::env::{kalsim_env_step_buffers, kalsim_step, kalsim_step_info};
use crate::metrics::kalsim_metrics;
use crate::primitives::kalsim_obs_feature;
use crate::ptr;
use crate::status::{FfiError, FfiResult, boundary, kalsim_status};
use crate::train::kalsim_train_progress;
use crate::vec_env::kalsim_vec_step_buffers;

/// The structs `kalsim_struct_*` describe (passed as `uint32_t`).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum kalsim_struct_id {
    /// `kalsim_step_info`.
    StepInfo = 0,
    /// `kalsim_step`.
    Step = 1,
    /// `kalsim_metrics`.
    Metrics = 2,
    /// `kalsim_obs_feature`.
    ObsFeature = 3,
    /// `kalsim_vec_step_buffers`.
    VecStepBuffers = 4,
    /// `kalsim_field` itself, so a binding can check the mirror it bootstraps with.
    Field = 5,
    /// `kalsim_env_step_buffers`.
    EnvStepBuffers = 6,
    /// `kalsim_train_progress`.
    TrainProgress = 7,
}

/// Number of struct ids (one past the largest).
const STRUCT_COUNT: u32 = 8;

/// The C type of a struct field (passed as `uint32_t` in `kalsim_field.kind`).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum kalsim_field_kind {
    /// `uint8_t`.
    U8 = 0,
    /// `bool` (one byte, 0 or 1).
    Bool = 1,
    /// `uint32_t`.
    U32 = 2,
    /// `uint64_t`.
    U64 = 3,
    /// `int64_t`.
    I64 = 4,
    /// `float`.
    F32 = 5,
    /// `double`.
    F64 = 6,
    /// `size_t`.
    Usize = 7,
    /// `const char *`: a NUL-terminated string.
    CString = 8,
    /// Any other data pointer.
    Pointer = 9,
    /// A nested struct, named by `kalsim_field.struct_id`.
    Struct = 10,
}

/// One field of a struct: what a binding needs to mirror it.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kalsim_field {
    /// The field's name in the header (static).
    pub name: *const c_char,
    /// Byte offset from the start of the struct (`offsetof`).
    pub offset: usize,
    /// A `kalsim_field_kind`.
    pub kind: u32,
    /// Elements: 1 for a scalar, N for an array `T name[N]`.
    pub count: usize,
    /// The nested struct's `kalsim_struct_id` when `kind` is `KALSIM_FIELD_KIND_STRUCT`,
    /// else 0.
    pub struct_id: u32,
}

/// A field's C type, derived from its Rust type.
trait FieldType {
    const KIND: kalsim_field_kind;
    const COUNT: usize = 1;
    const STRUCT_ID: u32 = 0;
}

macro_rules! scalar {
    ($($t:ty => $k:ident),* $(,)?) => {
        $(impl FieldType for $t {
            const KIND: kalsim_field_kind = kalsim_field_kind::$k;
        })*
    };
}

scalar! {
    u8 => U8, bool => Bool, u32 => U32, u64 => U64, i64 => I64, f32 => F32, f64 => F64,
    usize => Usize, *const c_char => CString, *const u32 => Pointer, *mut f32 => Pointer,
    *mut f64 => Pointer, *mut u8 => Pointer, *mut kalsim_step => Pointer,
}

impl FieldType for kalsim_step_info {
    const KIND: kalsim_field_kind = kalsim_field_kind::Struct;
    const STRUCT_ID: u32 = kalsim_struct_id::StepInfo as u32;
}

impl<T: FieldType, const N: usize> FieldType for [T; N] {
    const KIND: kalsim_field_kind = T::KIND;
    const COUNT: usize = N * T::COUNT;
    const STRUCT_ID: u32 = T::STRUCT_ID;
}

/// A table row; the field's type is inferred from the accessor.
const fn field<S, T: FieldType>(name: &'static str, offset: usize, _: fn(&S) -> &T) -> Field {
    Field {
        name,
        offset,
        kind: T::KIND,
        count: T::COUNT,
        struct_id: T::STRUCT_ID,
    }
}

#[derive(Clone, Copy, Debug)]
struct Field {
    /// NUL-terminated.
    name: &'static str,
    offset: usize,
    kind: kalsim_field_kind,
    count: usize,
    struct_id: u32,
}

/// `fields!(Struct { a, b })`: the rows of `Struct`'s fields in declaration order.
macro_rules! fields {
    ($s:ident { $($f:ident),* $(,)? }) => {
        &[$(field::<$s, _>(concat!(stringify!($f), "\0"), offset_of!($s, $f), |s| &s.$f)),*]
    };
}

struct Layout {
    name: &'static str,
    size: usize,
    fields: &'static [Field],
}

const STEP_INFO: Layout = Layout {
    name: "kalsim_step_info\0",
    size: size_of::<kalsim_step_info>(),
    fields: fields!(kalsim_step_info {
        step,
        market_index,
        event_index,
        cash_cents,
        position,
        portfolio_value_cents,
        fees_paid_cents,
        realized_pnl_cents,
        last_order_intent,
        last_order_tier,
        last_order_limit_cents,
        invalid_action,
        settled,
        last_order_size,
        last_order_filled,
        last_order_avg_fill_price,
        filled_this_step,
        working_order_remaining,
        fee_this_step_cents,
    }),
};

const STEP: Layout = Layout {
    name: "kalsim_step\0",
    size: size_of::<kalsim_step>(),
    fields: fields!(kalsim_step {
        reward,
        terminated,
        truncated,
        info
    }),
};

const METRICS: Layout = Layout {
    name: "kalsim_metrics\0",
    size: size_of::<kalsim_metrics>(),
    fields: fields!(kalsim_metrics {
        total_return,
        sharpe,
        max_drawdown,
        win_rate,
        fees_cents,
        hold_fraction,
        size_efficiency,
        fills_per_tier,
        action_histogram,
        max_position_reached,
        size_changes,
        invalid_actions,
        avg_winning_position_size,
        avg_losing_position_size,
        avg_position_size,
        round_trips,
        steps,
        initial_pv_cents,
        final_pv_cents,
    }),
};

const OBS_FEATURE: Layout = Layout {
    name: "kalsim_obs_feature\0",
    size: size_of::<kalsim_obs_feature>(),
    fields: fields!(kalsim_obs_feature {
        name,
        group,
        scaling,
        min,
        max
    }),
};

const VEC_STEP_BUFFERS: Layout = Layout {
    name: "kalsim_vec_step_buffers\0",
    size: size_of::<kalsim_vec_step_buffers>(),
    fields: fields!(kalsim_vec_step_buffers {
        actions,
        actions_len,
        obs_out,
        obs_len,
        rewards_out,
        rewards_len,
        terminated_out,
        terminated_len,
        truncated_out,
        truncated_len,
        masks_out,
        masks_len,
    }),
};

const ENV_STEP_BUFFERS: Layout = Layout {
    name: "kalsim_env_step_buffers\0",
    size: size_of::<kalsim_env_step_buffers>(),
    fields: fields!(kalsim_env_step_buffers {
        obs_out,
        obs_len,
        mask_out,
        mask_len,
        step_out,
    }),
};

const TRAIN_PROGRESS: Layout = Layout {
    name: "kalsim_train_progress\0",
    size: size_of::<kalsim_train_progress>(),
    fields: fields!(kalsim_train_progress {
        iteration,
        timesteps,
        total_timesteps,
        episodes,
        mean_episode_return,
        entropy,
        hold_fraction,
    }),
};

const FIELD: Layout = Layout {
    name: "kalsim_field\0",
    size: size_of::<kalsim_field>(),
    fields: fields!(kalsim_field {
        name,
        offset,
        kind,
        count,
        struct_id
    }),
};

const LAYOUTS: [&Layout; STRUCT_COUNT as usize] = [
    &STEP_INFO,
    &STEP,
    &METRICS,
    &OBS_FEATURE,
    &VEC_STEP_BUFFERS,
    &FIELD,
    &ENV_STEP_BUFFERS,
    &TRAIN_PROGRESS,
];

fn layout(struct_id: u32) -> FfiResult<&'static Layout> {
    LAYOUTS.get(struct_id as usize).copied().ok_or_else(|| {
        FfiError::arg(format!(
            "struct id {struct_id} is not one of 0..={}",
            STRUCT_COUNT - 1
        ))
    })
}

/// Number of struct ids (`kalsim_struct_id` runs 0..it).
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_struct_count() -> u32 {
    STRUCT_COUNT
}

/// Static C name of struct `struct_id` (e.g. "kalsim_step_info"); NULL when out of range.
#[unsafe(no_mangle)]
pub extern "C" fn kalsim_struct_name(struct_id: u32) -> *const c_char {
    match layout(struct_id) {
        Ok(l) => l.name.as_ptr().cast(),
        Err(_) => std::ptr::null(),
    }
}

/// `sizeof` struct `struct_id` in bytes and its number of fields.
/// Errors: `KALSIM_STATUS_INVALID_ARGUMENT` for an unknown id.
///
/// # Safety
/// `size_out` and `field_count_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_struct_layout(
    struct_id: u32,
    size_out: *mut usize,
    field_count_out: *mut usize,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let size_out = unsafe { ptr::as_mut(size_out, "size_out") }?;
        // SAFETY: caller contract.
        let count_out = unsafe { ptr::as_mut(field_count_out, "field_count_out") }?;
        let l = layout(struct_id)?;
        *size_out = l.size;
        *count_out = l.fields.len();
        Ok(())
    })
}

/// Field `index` (declaration order) of struct `struct_id`.
/// Errors: `KALSIM_STATUS_INVALID_ARGUMENT` for an unknown id or an index past the last.
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kalsim_struct_field(
    struct_id: u32,
    index: usize,
    out: *mut kalsim_field,
) -> kalsim_status {
    boundary(|| {
        // SAFETY: caller contract.
        let out = unsafe { ptr::as_mut(out, "out") }?;
        let l = layout(struct_id)?;
        let f = l.fields.get(index).ok_or_else(|| {
            FfiError::arg(format!(
                "field index {index} >= {} (fields of {})",
                l.fields.len(),
                l.name.trim_end_matches('\0')
            ))
        })?;
        *out = kalsim_field {
            name: f.name.as_ptr().cast(),
            offset: f.offset,
            kind: f.kind as u32,
            count: f.count,
            struct_id: f.struct_id,
        };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed header is cbindgen's rendering of the Rust structs (`tests/header.rs`
    /// pins that); this parses each struct's body out of it.
    fn header_fields(name: &str) -> Vec<(String, String, usize)> {
        let header = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/include/kalsim.h"));
        let open = format!("typedef struct {name} {{");
        let start = header
            .find(&open)
            .unwrap_or_else(|| panic!("{name} not in the header"));
        let body = &header[start + open.len()..];
        let body = &body[..body.find(&format!("}} {name};")).unwrap()];
        body.lines()
            .map(str::trim)
            .filter(|l| l.ends_with(';') && !l.starts_with('*') && !l.starts_with("/*"))
            .map(|l| {
                let decl = l.trim_end_matches(';');
                let (decl, count) = match decl.split_once('[') {
                    Some((d, n)) => (d, array_len(header, n.trim_end_matches(']'))),
                    None => (decl, 1),
                };
                let split = decl.rfind([' ', '*']).unwrap() + 1;
                let (ty, field) = decl.split_at(split);
                (ty.trim().to_string(), field.to_string(), count)
            })
            .collect()
    }

    /// An array length as the header writes it: a number or one of its `#define`s.
    fn array_len(header: &str, len: &str) -> usize {
        len.parse().unwrap_or_else(|_| {
            let define = format!("#define {len} ");
            let line = header.lines().find(|l| l.starts_with(&define)).unwrap();
            line[define.len()..].trim().parse().unwrap()
        })
    }

    fn kind_of_c_type(ty: &str) -> kalsim_field_kind {
        use kalsim_field_kind as K;
        match ty {
            "uint8_t" => K::U8,
            "bool" => K::Bool,
            "uint32_t" => K::U32,
            "uint64_t" => K::U64,
            "int64_t" => K::I64,
            "float" => K::F32,
            "double" => K::F64,
            "size_t" => K::Usize,
            "const char *" => K::CString,
            t if t.ends_with('*') => K::Pointer,
            t if t.starts_with("struct kalsim_") => K::Struct,
            t => panic!("unmapped C type {t}"),
        }
    }

    #[test]
    fn every_layout_matches_the_header_field_for_field() {
        for id in 0..STRUCT_COUNT {
            let l = layout(id).unwrap();
            let name = l.name.trim_end_matches('\0');
            let want = header_fields(name);
            let got: Vec<_> = l
                .fields
                .iter()
                .map(|f| (f.name.trim_end_matches('\0'), f.kind, f.count))
                .collect();
            let want: Vec<_> = want
                .iter()
                .map(|(ty, n, c)| (n.as_str(), kind_of_c_type(ty), *c))
                .collect();
            assert_eq!(got, want, "{name}: layout table and header differ");
            // Offsets ascend and stay inside the struct.
            for w in l.fields.windows(2) {
                assert!(w[0].offset < w[1].offset, "{name}");
            }
            let last = l.fields.last().unwrap();
            assert!(last.offset < l.size, "{name}");
            assert_eq!(l.name.matches('\0').count(), 1);
        }
    }

    #[test]
    fn step_info_has_the_fields_of_host_sims_step_info() {
        let info = serde_json::to_value(kalsim_host_sim::env::StepInfo::default()).unwrap();
        let keys: Vec<&str> = info
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let ours: Vec<&str> = STEP_INFO
            .fields
            .iter()
            .map(|f| f.name.trim_end_matches('\0'))
            .collect();
        let mut sorted_ours = ours.clone();
        sorted_ours.sort_unstable();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort_unstable();
        assert_eq!(
            sorted_ours, sorted_keys,
            "kalsim_step_info vs StepInfo fields"
        );
    }

    #[test]
    fn bad_ids_and_indices_are_errors() {
        let mut f = std::mem::MaybeUninit::<kalsim_field>::uninit();
        // SAFETY: `f` is writable.
        let s = unsafe { kalsim_struct_field(STRUCT_COUNT, 0, f.as_mut_ptr()) };
        assert_eq!(s, kalsim_status::InvalidArgument);
        // SAFETY: as above.
        let s = unsafe { kalsim_struct_field(0, STEP_INFO.fields.len(), f.as_mut_ptr()) };
        assert_eq!(s, kalsim_status::InvalidArgument);
        assert!(kalsim_struct_name(STRUCT_COUNT).is_null());
    }
}

//! A small fully connected network (tanh hidden layers, linear output) with hand-written
//! batched forward and backward passes.
//!
//! Parameters live in one contiguous `Vec<f32>`; layer `l` stores its weight as an
//! `in × out` row-major matrix followed by its `out` biases. Every matrix product goes
//! through [`gemm_acc`], whose inner loop is an `axpy` over output columns (no float
//! reduction), so the compiler vectorises it without reordering any sum: each output element
//! is accumulated in the same order on every target, and the result is bit-identical.

use kalsim_core::Rng;

/// Largest `|x|` for which [`tanh`] evaluates the rational approximation; beyond it the
/// result is ±1 to f32 precision.
const TANH_CLAMP: f32 = 7.998_811_7;

/// `tanh` for `f32` from a 13/6 rational approximation (the one Eigen uses), built only from
/// `+ - × ÷`, so it is correctly reproducible on every target and cheap enough for the hot
/// loop (max error about 1e-7 against `libm::tanhf`, tested).
#[inline(always)]
#[allow(clippy::excessive_precision)] // coefficients as published
pub(crate) fn tanh(x: f32) -> f32 {
    const A1: f32 = 4.893_524_5e-3;
    const A3: f32 = 6.372_619_3e-4;
    const A5: f32 = 1.485_722_4e-5;
    const A7: f32 = 5.122_297e-8;
    const A9: f32 = -8.604_671_5e-11;
    const A11: f32 = 2.000_187_9e-13;
    const A13: f32 = -2.760_768_5e-16;
    const B0: f32 = 4.893_525_2e-3;
    const B2: f32 = 2.268_434_6e-3;
    const B4: f32 = 1.185_347_1e-4;
    const B6: f32 = 1.198_258_4e-6;
    let xc = x.clamp(-TANH_CLAMP, TANH_CLAMP);
    let x2 = xc * xc;
    let mut p = x2 * A13 + A11;
    p = x2 * p + A9;
    p = x2 * p + A7;
    p = x2 * p + A5;
    p = x2 * p + A3;
    p = x2 * p + A1;
    p *= xc;
    let mut q = x2 * B6 + B4;
    q = x2 * q + B2;
    q = x2 * q + B0;
    let t = (p / q).clamp(-1.0, 1.0);
    if x.abs() < 4e-4 { x } else { t }
}

/// Applies [`tanh`] to every element (AVX2 on x86-64 when available; same bits).
pub(crate) fn tanh_in_place(v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { tanh_in_place_avx2(v) };
            return;
        }
    }
    tanh_loop(v);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn tanh_in_place_avx2(v: &mut [f32]) {
    tanh_loop(v);
}

#[inline(always)]
pub(crate) fn tanh_loop(v: &mut [f32]) {
    for x in v {
        *x = tanh(*x);
    }
}

/// `y[r][c] += Σ_k x[r][k] · w[k][c]` for `y: m×n`, `x: m×k`, `w: k×n`, all row-major.
///
/// Every element `(r, c)` is accumulated as `((y + x₀w₀) + x₁w₁) + …` in `k` order, with a
/// separate multiply and add (Rust never contracts them into an FMA). Only how many
/// elements are in flight at once differs between code paths, so the AVX2 path (chosen at
/// run time on x86-64) and the portable path (everything else, including `wasm32`) give
/// bit-identical results.
pub(crate) fn gemm_acc(y: &mut [f32], m: usize, n: usize, x: &[f32], k: usize, w: &[f32]) {
    gemm_dispatch::<false>(y, m, n, x, k, w);
}

/// `y[r][c] += Σ_k x[k][r] · w[k][c]` — like [`gemm_acc`] with `x` given transposed
/// (`x: k×m`), as the weight gradient `inputᵀ · δ` needs; same summation order.
pub(crate) fn gemm_acc_tn(y: &mut [f32], m: usize, n: usize, x: &[f32], k: usize, w: &[f32]) {
    gemm_dispatch::<true>(y, m, n, x, k, w);
}

#[inline(always)]
fn gemm_dispatch<const T: bool>(y: &mut [f32], m: usize, n: usize, x: &[f32], k: usize, w: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { gemm_acc_avx2::<T>(y, m, n, x, k, w) };
            return;
        }
    }
    gemm_acc_blocked::<16, T>(y, m, n, x, k, w);
}

/// [`gemm_acc_blocked`] compiled for AVX2 (8 lanes: blocks of 32 columns keep four
/// independent accumulator chains per row). No FMA is enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gemm_acc_avx2<const T: bool>(
    y: &mut [f32],
    m: usize,
    n: usize,
    x: &[f32],
    k: usize,
    w: &[f32],
) {
    gemm_acc_blocked::<32, T>(y, m, n, x, k, w);
}

/// Element `(r, kk)` of the left operand: `x` is `m×k` row-major, or `k×m` when `T`.
#[inline(always)]
fn left<const T: bool>(x: &[f32], m: usize, k: usize, r: usize, kk: usize) -> f32 {
    if T { x[kk * m + r] } else { x[r * k + kk] }
}

/// The kernel: per row, column blocks of `B` then of 8 accumulate in registers; the last
/// `< 8` columns are done eight rows at a time (independent chains instead of one long one).
#[inline(always)]
pub(crate) fn gemm_acc_blocked<const B: usize, const T: bool>(
    y: &mut [f32],
    m: usize,
    n: usize,
    x: &[f32],
    k: usize,
    w: &[f32],
) {
    let y = &mut y[..m * n];
    let x = &x[..m * k];
    let w = &w[..k * n];
    let mut c0 = 0;
    while c0 + B <= n {
        gemm_block::<B, T>(y, m, n, x, k, w, c0);
        c0 += B;
    }
    while c0 + 8 <= n {
        gemm_block::<8, T>(y, m, n, x, k, w, c0);
        c0 += 8;
    }
    for c in c0..n {
        let mut r0 = 0;
        while r0 + 8 <= m {
            let mut acc = [0f32; 8];
            for (i, a) in acc.iter_mut().enumerate() {
                *a = y[(r0 + i) * n + c];
            }
            for kk in 0..k {
                let wv = w[kk * n + c];
                for (i, a) in acc.iter_mut().enumerate() {
                    *a += left::<T>(x, m, k, r0 + i, kk) * wv;
                }
            }
            for (i, a) in acc.iter().enumerate() {
                y[(r0 + i) * n + c] = *a;
            }
            r0 += 8;
        }
        for r in r0..m {
            let mut a = y[r * n + c];
            for kk in 0..k {
                a += left::<T>(x, m, k, r, kk) * w[kk * n + c];
            }
            y[r * n + c] = a;
        }
    }
}

/// Columns `c0..c0 + B` of every row, with the `B` accumulators in registers.
#[inline(always)]
fn gemm_block<const B: usize, const T: bool>(
    y: &mut [f32],
    m: usize,
    n: usize,
    x: &[f32],
    k: usize,
    w: &[f32],
    c0: usize,
) {
    for (r, yr) in y.chunks_exact_mut(n).enumerate() {
        let mut acc = [0f32; B];
        acc.copy_from_slice(&yr[c0..c0 + B]);
        for kk in 0..k {
            let xv = left::<T>(x, m, k, r, kk);
            let wr: &[f32; B] = w[kk * n + c0..kk * n + c0 + B].try_into().unwrap();
            for j in 0..B {
                acc[j] += xv * wr[j];
            }
        }
        yr[c0..c0 + B].copy_from_slice(&acc);
    }
}

/// Writes the transpose of the `rows × cols` row-major matrix `a` into `out` (`cols × rows`).
fn transpose(a: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = a[r * cols + c];
        }
    }
}

/// A multilayer perceptron: `sizes[0]` inputs, tanh hidden layers, `sizes.last()` linear
/// outputs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Mlp {
    /// Layer widths, input first.
    pub sizes: Vec<usize>,
    /// All weights and biases, layer by layer (weight `in × out` row-major, then bias).
    pub params: Vec<f32>,
}

impl Mlp {
    /// Number of parameters of a network with these layer widths.
    pub fn param_count(sizes: &[usize]) -> usize {
        sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }

    /// Orthogonal initialisation (modified Gram–Schmidt over normal draws, in `f64`) scaled
    /// by `sqrt(2)` for hidden layers and by `out_gain` for the output layer; zero biases —
    /// the PPO implementation details of Engstrom et al. / Huang et al.
    pub fn new(sizes: &[usize], out_gain: f64, rng: &mut Rng) -> Mlp {
        let mut params = vec![0f32; Self::param_count(sizes)];
        let layers = sizes.len() - 1;
        let mut off = 0;
        for l in 0..layers {
            let (fan_in, fan_out) = (sizes[l], sizes[l + 1]);
            let gain = if l + 1 == layers {
                out_gain
            } else {
                core::f64::consts::SQRT_2
            };
            let w = orthogonal(fan_in, fan_out, rng);
            for (p, v) in params[off..off + fan_in * fan_out].iter_mut().zip(&w) {
                *p = (v * gain) as f32;
            }
            off += fan_in * fan_out + fan_out;
        }
        Mlp {
            sizes: sizes.to_vec(),
            params,
        }
    }

    /// Number of layers (weight matrices).
    pub fn layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// Offset of layer `l`'s weight in `params` (its bias follows the weight).
    pub fn layer_offset(&self, l: usize) -> usize {
        self.sizes[..=l]
            .windows(2)
            .map(|w| w[0] * w[1] + w[1])
            .sum()
    }

    /// Widest layer.
    fn max_width(&self) -> usize {
        self.sizes.iter().copied().max().unwrap_or(0)
    }

    /// Forward pass over `n` rows of `x` (`n × sizes[0]`); activations land in `work`, the
    /// output in [`MlpWork::output`].
    pub fn forward(&self, x: &[f32], n: usize, work: &mut MlpWork) {
        assert!(n <= work.capacity, "batch larger than the workspace");
        for l in 0..self.layers() {
            let (fan_in, fan_out) = (self.sizes[l], self.sizes[l + 1]);
            let off = self.layer_offset(l);
            let w = &self.params[off..off + fan_in * fan_out];
            let b = &self.params[off + fan_in * fan_out..off + fan_in * fan_out + fan_out];
            let (before, rest) = work.acts.split_at_mut(l);
            let y = &mut rest[0][..n * fan_out];
            for row in y.chunks_exact_mut(fan_out) {
                row.copy_from_slice(b);
            }
            let input: &[f32] = if l == 0 { x } else { &before[l - 1] };
            gemm_acc(y, n, fan_out, input, fan_in, w);
            if l + 1 < self.layers() {
                tanh_in_place(y);
            }
        }
    }

    /// Backward pass for the last [`Mlp::forward`] over the same `x` and `n`: given
    /// `d_out = ∂L/∂output` (`n × sizes.last()`), **adds** `∂L/∂params` to `grad`.
    pub fn backward(
        &self,
        x: &[f32],
        n: usize,
        work: &mut MlpWork,
        d_out: &[f32],
        grad: &mut [f32],
    ) {
        let layers = self.layers();
        let out_w = self.sizes[layers];
        work.delta[..n * out_w].copy_from_slice(&d_out[..n * out_w]);
        for l in (0..layers).rev() {
            let (fan_in, fan_out) = (self.sizes[l], self.sizes[l + 1]);
            let off = self.layer_offset(l);
            let input: &[f32] = if l == 0 { x } else { &work.acts[l - 1] };
            let dz = &work.delta[..n * fan_out];
            // ∂W += inputᵀ · dz, ∂b += Σ_rows dz.
            let (gw, gb) =
                grad[off..off + fan_in * fan_out + fan_out].split_at_mut(fan_in * fan_out);
            gemm_acc_tn(gw, fan_in, fan_out, &input[..n * fan_in], n, dz);
            for row in dz.chunks_exact(fan_out) {
                for (g, &d) in gb.iter_mut().zip(row) {
                    *g += d;
                }
            }
            if l == 0 {
                break;
            }
            // ∂input = dz · Wᵀ, then through tanh: ∂z = ∂a · (1 − a²).
            transpose(
                &self.params[off..off + fan_in * fan_out],
                fan_in,
                fan_out,
                &mut work.wt,
            );
            let d_in = &mut work.delta_prev[..n * fan_in];
            d_in.fill(0.0);
            gemm_acc(d_in, n, fan_in, dz, fan_out, &work.wt);
            for (d, &a) in d_in.iter_mut().zip(&work.acts[l - 1][..n * fan_in]) {
                *d *= 1.0 - a * a;
            }
            core::mem::swap(&mut work.delta, &mut work.delta_prev);
        }
    }

    /// Forward pass for one input row using two caller buffers of at least the widest
    /// layer's length; the output is in the first `sizes.last()` entries of the returned
    /// slice. Never allocates.
    pub fn forward_one<'a>(
        &self,
        x: &[f32],
        buf_a: &'a mut [f32],
        buf_b: &'a mut [f32],
    ) -> &'a [f32] {
        let (mut cur, mut next) = (buf_a, buf_b);
        for l in 0..self.layers() {
            let (fan_in, fan_out) = (self.sizes[l], self.sizes[l + 1]);
            let off = self.layer_offset(l);
            let w = &self.params[off..off + fan_in * fan_out];
            let y = &mut next[..fan_out];
            y.copy_from_slice(
                &self.params[off + fan_in * fan_out..off + fan_in * fan_out + fan_out],
            );
            let input: &[f32] = if l == 0 { &x[..fan_in] } else { &cur[..fan_in] };
            gemm_acc(y, 1, fan_out, input, fan_in, w);
            if l + 1 < self.layers() {
                for v in y.iter_mut() {
                    *v = tanh(*v);
                }
            }
            core::mem::swap(&mut cur, &mut next);
        }
        &cur[..self.sizes[self.layers()]]
    }

    /// A workspace for batches of up to `capacity` rows.
    pub fn workspace(&self, capacity: usize) -> MlpWork {
        let widest = self.max_width();
        MlpWork {
            capacity,
            acts: self.sizes[1..]
                .iter()
                .map(|&w| vec![0f32; capacity * w])
                .collect(),
            delta: vec![0f32; capacity * widest],
            delta_prev: vec![0f32; capacity * widest],
            wt: vec![0f32; widest * widest],
        }
    }
}

/// Reusable buffers for batched passes of one [`Mlp`] (allocated once).
#[derive(Clone, Debug)]
pub(crate) struct MlpWork {
    capacity: usize,
    /// Output of each layer (post-tanh for hidden layers), `capacity × width`.
    acts: Vec<Vec<f32>>,
    delta: Vec<f32>,
    delta_prev: Vec<f32>,
    wt: Vec<f32>,
}

impl MlpWork {
    /// The network output of the last forward pass (`capacity × out`, first `n` rows valid).
    pub fn output(&self) -> &[f32] {
        self.acts.last().map(Vec::as_slice).unwrap_or(&[])
    }
}

/// A `rows × cols` matrix (row-major, `f64`) with orthonormal rows or columns (whichever
/// are fewer), from Gram–Schmidt over standard normal draws.
fn orthogonal(rows: usize, cols: usize, rng: &mut Rng) -> Vec<f64> {
    // Orthonormalise `count` vectors of length `len`, stored contiguously.
    let (count, len) = if rows >= cols {
        (cols, rows)
    } else {
        (rows, cols)
    };
    let mut v: Vec<f64> = (0..count * len).map(|_| rng.normal()).collect();
    for i in 0..count {
        for j in 0..i {
            let dot: f64 = (0..len).map(|t| v[i * len + t] * v[j * len + t]).sum();
            for t in 0..len {
                v[i * len + t] -= dot * v[j * len + t];
            }
        }
        let norm = libm::sqrt(
            (0..len)
                .map(|t| v[i * len + t] * v[i * len + t])
                .sum::<f64>(),
        );
        let inv = if norm > 1e-12 { 1.0 / norm } else { 0.0 };
        for t in 0..len {
            v[i * len + t] *= inv;
        }
    }
    if rows >= cols {
        // Vectors are columns: element (r, c) = v[c][r].
        let mut out = vec![0f64; rows * cols];
        for c in 0..cols {
            for r in 0..rows {
                out[r * cols + c] = v[c * len + r];
            }
        }
        out
    } else {
        v
    }
}

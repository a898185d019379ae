//! Adam (Kingma and Ba, 2015) over a flat parameter vector.

/// Adam state for one parameter vector.
#[derive(Clone, Debug)]
pub(crate) struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
    /// β₁ᵗ and β₂ᵗ as running products (no `powf`, so the bits are target-independent).
    beta1_t: f32,
    beta2_t: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
}

impl Adam {
    /// Adam for `len` parameters with the given moments' decay rates and `eps`.
    pub fn new(len: usize, beta1: f32, beta2: f32, eps: f32) -> Adam {
        Adam {
            m: vec![0.0; len],
            v: vec![0.0; len],
            beta1_t: 1.0,
            beta2_t: 1.0,
            beta1,
            beta2,
            eps,
        }
    }

    /// One bias-corrected step of size `lr` along `grad`.
    pub fn step(&mut self, params: &mut [f32], grad: &[f32], lr: f32) {
        self.beta1_t *= self.beta1;
        self.beta2_t *= self.beta2;
        let step = lr / (1.0 - self.beta1_t);
        let v_correction = 1.0 / (1.0 - self.beta2_t);
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        for (((p, &g), m), v) in params
            .iter_mut()
            .zip(grad)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= step * *m / (libm::sqrtf(*v * v_correction) + eps);
        }
    }
}

//! The optimiser both training methods use is candle-nn's `AdamW` with `weight_decay = 0`. These tests
//! pin down that this is plain Adam (Kingma & Ba, Algorithm 1): first and second moments, bias
//! correction, `θ ← θ − lr · m̂ / (√v̂ + ε)`, and that candle's default `weight_decay = 0.01` is not.

use candle_core::{Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

/// Loss `Σ a_i θ_i + ½ Σ θ_i²`, gradient `a + θ`.
fn loss(theta: &Var, a: &Tensor) -> Tensor {
    let lin = (theta.as_tensor() * a).unwrap().sum_all().unwrap();
    let quad = (theta.as_tensor().sqr().unwrap().sum_all().unwrap() * 0.5).unwrap();
    (lin + quad).unwrap()
}

/// Adam by hand, one step at a time, in the textbook's order of operations.
struct HandAdam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl HandAdam {
    fn step(&mut self, theta: &mut [f64], grad: &[f64], lr: f64, weight_decay: f64) {
        self.t += 1;
        for i in 0..theta.len() {
            self.m[i] = BETA1 * self.m[i] + (1.0 - BETA1) * grad[i];
            self.v[i] = BETA2 * self.v[i] + (1.0 - BETA2) * grad[i] * grad[i];
            let m_hat = self.m[i] / (1.0 - BETA1.powi(self.t));
            let v_hat = self.v[i] / (1.0 - BETA2.powi(self.t));
            // Decoupled weight decay (AdamW): θ(1 − lr·λ) before the Adam step; λ = 0 is Adam.
            theta[i] = theta[i] * (1.0 - lr * weight_decay) - lr * m_hat / (v_hat.sqrt() + EPS);
        }
    }
}

fn run(weight_decay: f64, lrs: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let dev = Device::Cpu;
    let theta0 = vec![0.5, -1.25, 3.0, 1e-3, -0.02];
    let a = vec![1.0, 0.5, -2.0, 0.3, 4.0];
    let at = Tensor::new(a.as_slice(), &dev).unwrap();
    let var = Var::new(theta0.as_slice(), &dev).unwrap();
    let params = ParamsAdamW { lr: lrs[0], beta1: BETA1, beta2: BETA2, eps: EPS, weight_decay };
    let mut opt = AdamW::new(vec![var.clone()], params).unwrap();
    let mut hand = HandAdam { m: vec![0.0; 5], v: vec![0.0; 5], t: 0 };
    let mut theta = theta0.clone();
    for &lr in lrs {
        opt.set_learning_rate(lr);
        opt.backward_step(&loss(&var, &at)).unwrap();
        let grad: Vec<f64> = theta.iter().zip(&a).map(|(t, a)| a + t).collect();
        hand.step(&mut theta, &grad, lr, weight_decay);
    }
    (var.as_tensor().to_vec1::<f64>().unwrap(), theta)
}

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "θ[{i}]: candle {g:e}, by hand {w:e}");
    }
}

#[test]
fn one_adamw_step_without_weight_decay_is_adam() {
    let (got, want) = run(0.0, &[1e-2]);
    assert_close(&got, &want, 1e-12);
    // After one step the bias-corrected moments give m̂/√v̂ = sign(g): every weight moves by lr.
    let theta0 = [0.5, -1.25, 3.0, 1e-3, -0.02];
    let g: [f64; 5] = [1.5, -0.75, 1.0, 0.301, 3.98];
    for i in 0..5 {
        let step = theta0[i] - got[i];
        let want = 1e-2 * g[i] / (g[i].abs() + EPS);
        assert!((step - want).abs() <= 1e-12, "θ[{i}] moved by {step:e}, want {want:e}");
    }
}

#[test]
fn several_adam_steps_with_a_schedule_match_the_bias_corrected_update() {
    // Changing learning rates as the cosine schedule does; the moments carry over between steps.
    let (got, want) = run(0.0, &[3e-3, 2.5e-3, 1e-3, 5e-2, 1e-4]);
    assert_close(&got, &want, 1e-12);
}

#[test]
fn candle_default_weight_decay_is_not_adam() {
    assert_eq!(ParamsAdamW::default().weight_decay, 0.01);
    let (decayed, hand) = run(0.01, &[0.1, 0.1]);
    assert_close(&decayed, &hand, 1e-12);
    let (adam, _) = run(0.0, &[0.1, 0.1]);
    assert!(decayed.iter().zip(&adam).any(|(x, y)| (x - y).abs() > 1e-5), "weight decay changed nothing");
}

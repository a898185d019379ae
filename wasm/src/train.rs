//! The trainer and policy for JS (wired once the PPO trainer lands in host-sim).

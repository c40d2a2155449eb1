//! Estimators that turn per-trial records into answers: paired differences and variance-based sensitivity.

pub mod paired;
pub mod sensitivity;
pub mod sobol;
pub mod variants;

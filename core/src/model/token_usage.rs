//! What one answer cost in tokens, as the backend counts them.

use serde::{Deserialize, Serialize};

/// Token counts of one answer (`response.completed` → `response.usage`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct TokenUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

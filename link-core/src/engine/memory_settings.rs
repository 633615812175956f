//! How the engine keeps its conversations' memory: whether turns that leave the window are
//! summarised, how long a summary may be, and how many departed messages make one.

/// How the engine keeps its conversations' memory.
///
/// ```
/// use link_core::MemorySettings;
/// let settings = MemorySettings::default();
/// assert!(settings.enabled);
/// assert_eq!(settings.summary_tokens, 400);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MemorySettings {
    /// Whether turns that leave the window are summarised (default true). Off, the memory is
    /// only what the owner writes and pins.
    pub enabled: bool,
    /// The most tokens one summary may take (the summariser's `max_tokens`; default 400).
    pub summary_tokens: u32,
    /// How many messages must have left the window, beyond what the memory covers, before a
    /// summary is made (default 4: about two turns). Fewer summariser calls, each folding
    /// more; 1 summarises after every turn that pushes a message out.
    pub batch_messages: usize,
}

impl Default for MemorySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            summary_tokens: 400,
            batch_messages: 4,
        }
    }
}

impl MemorySettings {
    /// Turns summarising on or off.
    pub fn enabled(mut self, yes: bool) -> Self {
        self.enabled = yes;
        self
    }

    /// Sets the most tokens one summary may take.
    pub fn summary_tokens(mut self, tokens: u32) -> Self {
        self.summary_tokens = tokens;
        self
    }

    /// Sets how many messages must have left the window before a summary is made (at least 1).
    pub fn batch_messages(mut self, messages: usize) -> Self {
        self.batch_messages = messages.max(1);
        self
    }
}

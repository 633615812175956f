//! A one-character spinner shown until the first token arrives.

use crate::out;

const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// Draws in place with a backspace, so the reply starts right where the spinner was.
#[derive(Debug)]
pub struct Spinner {
    enabled: bool,
    drawn: bool,
    frame: usize,
}

impl Spinner {
    /// A spinner that draws only when `enabled` (stdout is a terminal).
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            drawn: false,
            frame: 0,
        }
    }

    /// Whether it still wants ticks.
    pub fn active(&self) -> bool {
        self.enabled
    }

    /// Draws the next frame.
    pub fn tick(&mut self) {
        if !self.enabled {
            return;
        }
        let back = if self.drawn { "\x08" } else { "" };
        out::print(&format!("{back}{}", FRAMES[self.frame % FRAMES.len()]));
        self.drawn = true;
        self.frame += 1;
    }

    /// Removes it for good.
    pub fn stop(&mut self) {
        if self.drawn {
            out::print("\x08 \x08");
        }
        self.enabled = false;
        self.drawn = false;
    }
}

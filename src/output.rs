//! Where the function's records go: the audit line and the EMF metrics document, each one
//! JSON line written with a single `write`, so they never interleave with other log lines.
//! Stdout in Lambda (CloudWatch Logs takes it from there), a buffer in tests.

use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub enum Output {
    Stdout,
    Buffer(Arc<Mutex<Vec<String>>>),
}

impl Output {
    /// Writes `line` and a newline in one write.
    pub fn write_line(&self, line: &str) {
        let line = format!("{line}\n");
        match self {
            Self::Stdout => {
                let _ = std::io::stdout().lock().write_all(line.as_bytes());
            }
            Self::Buffer(buffer) => buffer.lock().unwrap().push(line),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{buffer, lines};

    #[test]
    fn buffer_collects_one_line_per_write() {
        let output = buffer();
        output.write_line("{\"a\":1}");
        assert_eq!(lines(&output), vec!["{\"a\":1}\n".to_owned()]);
    }
}
